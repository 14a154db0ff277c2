package io.shieldpool.pool;

import io.shieldpool.config.ShieldpoolConfig;

/**
 * Pause before a worker's next section after consecutive failures: {@code initial}, doubling per
 * further failure, never above {@code max}. So a section that always fails costs one attempt per
 * {@code max} once warmed up, instead of spinning a CPU.
 */
final class Backoff {

    private final long initialNanos;
    private final long maxNanos;

    Backoff(ShieldpoolConfig.Backoff settings) {
        this.initialNanos = settings.initial().toNanos();
        this.maxNanos = settings.max().toNanos();
    }

    /** @param consecutiveFailures failures in a row so far, >= 1 */
    long delayNanos(int consecutiveFailures) {
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
}
