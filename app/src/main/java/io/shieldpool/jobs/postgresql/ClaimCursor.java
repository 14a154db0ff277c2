package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.Job;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where this node's claims of one queue go on from, and when a claim must start from the head of
 * the queue again. Confined to the store's context.
 *
 * <p>why: every job claimed since the oldest snapshot any session holds keeps its entry in the
 * ready index (vacuum cannot remove what that snapshot may still see), so a claim that starts at
 * the head of the queue walks over all of them: with one transaction left idle by another client,
 * each claim gets slower as it lasts. A claim that starts where the previous one ended skips them
 * ({@code claim-after}). What it cannot see are jobs that became ready behind that point
 * (released, rescued, retried, enqueued with a past run-at or by a node whose clock is behind),
 * so a plain claim from the head still runs whenever it is cheap: when the last one took less
 * than 1/{@value #FULL_CLAIM_SHARE} of the time since, and at least every
 * {@link #FULL_CLAIM_AT_LEAST_EVERY_NANOS} ns. Without a long snapshot a plain claim costs what a
 * claim-after costs, so almost every claim is a plain one and the order is exact; with one, a job
 * behind the point waits at most a few seconds.
 */
final class ClaimCursor {

    /** A plain claim may take at most 1/this of the time (its duration x this since the last). */
    static final int FULL_CLAIM_SHARE = 20;
    static final long FULL_CLAIM_AT_LEAST_EVERY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private Instant afterRunAt;
    private long afterId;
    private long lastFullEndNanos;
    private long lastFullCostNanos;
    private boolean fullInFlight;
    private boolean fullNext;

    /** Whether the next claim starts from the head of the queue (a plain claim). */
    boolean fullDue(long nowNanos) {
        if (afterRunAt == null) {
            return true;
        }
        if (fullInFlight) {
            return false;
        }
        if (fullNext) {
            return true;
        }
        long since = nowNanos - lastFullEndNanos;
        return since >= FULL_CLAIM_AT_LEAST_EVERY_NANOS || since >= lastFullCostNanos * FULL_CLAIM_SHARE;
    }

    void fullBegun() {
        fullInFlight = true;
        fullNext = false;
    }

    /**
     * This node made a job of the queue ready again at {@code runAt} (a release, a failure, a
     * retry, a rescue): behind the point, the next claim is a plain one, so this node's own
     * give-backs are claimable at once, as without a cursor.
     */
    void readyAgainAt(Instant runAt) {
        if (afterRunAt != null && !runAt.isAfter(afterRunAt)) {
            fullNext = true;
        }
    }

    /** As {@link #readyAgainAt} for a job whose run-at this node does not know. */
    void readyAgainBehind() {
        fullNext = true;
    }

    void fullEnded(long begunNanos, long endedNanos) {
        fullInFlight = false;
        lastFullEndNanos = endedNanos;
        lastFullCostNanos = endedNanos - begunNanos;
    }

    /** The point a claim-after starts from; null until a claim took a job. */
    Instant afterRunAt() {
        return afterRunAt;
    }

    long afterId() {
        return afterId;
    }

    /** Moves the point past the jobs a claim took (sorted in claim order); never back. */
    void advance(List<Job> claimed) {
        if (claimed.isEmpty()) {
            return;
        }
        Job last = claimed.getLast();
        if (afterRunAt == null || last.runAt().isAfter(afterRunAt)
                || (last.runAt().equals(afterRunAt) && last.id() > afterId)) {
            afterRunAt = last.runAt();
            afterId = last.id();
        }
    }
}
