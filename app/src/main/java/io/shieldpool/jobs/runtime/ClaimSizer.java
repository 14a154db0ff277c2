package io.shieldpool.jobs.runtime;

/**
 * {@code jobs.claim-batch = auto} on a shared store: how many jobs one shard's buffer should hold
 * when its feed claims. The target is the workers idle right now plus what the shard's workers
 * end sections during {@value #ROUND_TRIPS} claim round trips (the rate they ended sections at
 * over the last ~50 ms or the last claim's gap if longer, times the claim latency, both smoothed), at most the per-worker cap.
 * why ends, not takes: workers idle at a claim take its first jobs at once, which is a backlog
 * (the idle term), not a rate; counted as one it made claims of twice the workers behind 1 s
 * sections.
 *
 * <p>why: a claim is a round trip and a commit on the shared server; with short sections the
 * buffer must cover the time the next claim takes, or workers idle and claims are too small to
 * share their commit (claim-batch 256 made ~2x the jobs per second of 32 with no-op jobs). With
 * long sections, few jobs are taken per round trip and the buffer stays small: a buffered job is
 * one that other nodes' idle workers cannot run, and at a SIGKILL it is rescued with an attempt
 * counted. The feedback grows the buffer quickly when it is the bottleneck: with sections shorter
 * than a round trip, a claim's jobs all end within the next one, which measures a rate of about
 * the claim's size per round trip, so the next target is about the idle workers plus twice the
 * last claim, up to the cap.
 *
 * <p>Confined to its feed's thread; times are {@link io.shieldpool.time.Ticker#nanoTime} readings
 * passed in, so tests move them by hand.
 */
final class ClaimSizer {

    /** Claim round trips the buffer covers beyond the idle workers. */
    static final int ROUND_TRIPS = 2;

    /** why: ends longer ago than this say little about the rate now (their weight falls by e per this time). */
    private static final double MEMORY_NANOS = 50e6;

    /** Sections of the shard ended since the last sample. */
    private long endedSinceSample;
    private long sampledAtNanos;
    private boolean sampled;
    /** Ends, each weighted by how recent its sample is. */
    private double weightedEnds;
    /** The time those ends were counted over, weighted the same way. */
    private double weightedNanos;
    /** Claim round trip, following the slow ones (see {@link #claimAnswered}); 0 until a claim came back. */
    private double claimNanos;
    private int lastTarget;

    /** A section of the shard ended (acked, failed or cut): its worker takes its next job. */
    void sectionEnded() {
        endedSinceSample++;
    }

    /**
     * A claim came back after {@code roundTripNanos}. why up at once, down slowly: the buffer must
     * cover the slow round trips, not the typical one; on a loaded machine one claim in a few
     * takes several times the others, and a mean let the buffer run dry at each (C1: 75 % of the
     * workers' time in sections with a mean of the last two, against 88-93 % with a fixed 64).
     */
    void claimAnswered(long roundTripNanos) {
        claimNanos = roundTripNanos >= claimNanos ? roundTripNanos : claimNanos * 0.9 + roundTripNanos * 0.1;
    }

    /**
     * The target for a claim made now: the buffer should hold this many once it lands.
     *
     * @param nowNanos the time now
     * @param idle     workers of the shard waiting for a job right now
     * @param cap      the most the buffer may hold (per worker of the shard, times its workers)
     * @return between 1 and {@code cap}
     */
    int target(long nowNanos, int idle, int cap) {
        sample(nowNanos);
        double jobsPerNano = weightedNanos > 0 ? weightedEnds / weightedNanos : 0;
        double prefetch = Math.ceil(ROUND_TRIPS * jobsPerNano * claimNanos);
        lastTarget = (int) Math.max(1, Math.min(cap, idle + prefetch));
        return lastTarget;
    }

    /** The target of the last claim: the feed claims again once the buffer is down to a quarter of it. */
    int lastTarget() {
        return lastTarget;
    }

    private void sample(long nowNanos) {
        if (!sampled) {
            sampled = true;
            sampledAtNanos = nowNanos;
            endedSinceSample = 0;
            return;
        }
        long elapsed = nowNanos - sampledAtNanos;
        if (elapsed <= 0) {
            return;
        }
        // why a ratio of two decayed sums, not a decayed average of per-claim rates: sections that
        // end together (begun together) are a burst in one short window, and over a long one the
        // ends are few; both count for the time they stand for.
        double kept = Math.exp(-elapsed / MEMORY_NANOS);
        weightedEnds = kept * weightedEnds + endedSinceSample;
        weightedNanos = kept * weightedNanos + elapsed;
        sampledAtNanos = nowNanos;
        endedSinceSample = 0;
    }
}
