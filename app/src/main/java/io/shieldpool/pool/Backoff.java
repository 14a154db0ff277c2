package io.shieldpool.pool;

import io.shieldpool.config.ShieldpoolConfig;

import java.util.SplittableRandom;

/**
 * Pause before a worker's next section after consecutive failures, with "equal jitter":
 * <pre>
 *   base(n)  = min(max, initial * 2^(n-1))          n = failures in a row, >= 1
 *   pause(n) = base(n) * (32 + k) / 64              k = hash(seed, worker, n) mod 32, in 0..31
 * </pre>
 * so a pause lies in [base/2, base), never above {@code max}, and a section that always fails
 * costs one attempt per {@code max}/2 to {@code max} once warmed up instead of spinning a CPU.
 * why jitter: 50 workers failing against the same backend otherwise retried in the same
 * millisecond, hammering it as it recovered. why a hash rather than a random draw: it is seeded
 * per worker (the process's seed, the worker id, the failure count), so a worker's pauses are
 * reproducible in a test and two workers' are independent, with no state kept per worker. why 32
 * steps, not any value: each distinct pause is a delay line of the shard (O(1) waits); 32 steps
 * per doubling keep their number small while spreading a burst over 32 instants.
 */
final class Backoff {

    /** Jitter steps per doubling: see the class comment. */
    static final int JITTER_STEPS = 32;
    /** This process's jitter seed: two daemons restarted together do not retry in step either. */
    private static final long PROCESS_SEED = new SplittableRandom().nextLong();

    private final long initialNanos;
    private final long maxNanos;
    private final long seed;

    Backoff(ShieldpoolConfig.Backoff settings) {
        this(settings, PROCESS_SEED);
    }

    Backoff(ShieldpoolConfig.Backoff settings, long seed) {
        this.initialNanos = settings.initial().toNanos();
        this.maxNanos = settings.max().toNanos();
        this.seed = seed;
    }

    /**
     * @param workerId            the worker that failed
     * @param consecutiveFailures failures in a row so far, >= 1
     * @return the jittered pause, in [base/2, base)
     */
    long delayNanos(long workerId, int consecutiveFailures) {
        long base = baseNanos(consecutiveFailures);
        long k = Long.remainderUnsigned(mix(seed ^ mix(workerId) ^ consecutiveFailures), JITTER_STEPS);
        return base / (2 * JITTER_STEPS) * (JITTER_STEPS + k);
    }

    /** The pause before jitter: {@code initial}, doubling per further failure, at most {@code max}. */
    long baseNanos(int consecutiveFailures) {
        if (consecutiveFailures < 1) {
            throw new IllegalArgumentException("consecutiveFailures " + consecutiveFailures + " (expected: >= 1)");
        }
        int doublings = consecutiveFailures - 1;
        // why: shifting past the cap would overflow a long; anything that large is the cap anyway.
        if (doublings >= Long.numberOfLeadingZeros(initialNanos) - 1) {
            return maxNanos;
        }
        return Math.min(maxNanos, initialNanos << doublings);
    }

    /** SplitMix64's finalizer: a well-spread 64-bit hash. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
