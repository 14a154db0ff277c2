package io.shieldpool.jobs.postgresql;

import java.time.Duration;

/**
 * When the store opens its connections again while the server refuses writes (25006,
 * {@code PostgresJobStore.renewConnections}): at the first refusal, then after pauses that double
 * from {@code firstPause} up to {@code longestPause}; from the start again once a write lands.
 * Confined to the store's opening thread, then to its context (handed over by runOnContext).
 *
 * <p>why back off: a renewal helps only after the operator reset a per-database or per-role
 * read-only default, which a session keeps from its opening; until then each renewal is a new
 * session per pooled connection, refused all the same, so a spell of an hour opened thousands at a
 * renewal a second. why not longer than a few seconds: the longest pause is how late a node
 * takes writes again after such a reset.
 */
final class ConnectionRenewals {

    private final long firstPauseNanos;
    private final long longestPauseNanos;
    private long pauseNanos;
    private long lastNanos;
    private boolean renewed;

    ConnectionRenewals(Duration firstPause, Duration longestPause) {
        this.firstPauseNanos = firstPause.toNanos();
        this.longestPauseNanos = longestPause.toNanos();
        this.pauseNanos = firstPauseNanos;
    }

    /** A write was refused at {@code nowNanos} (System.nanoTime): whether to open the connections again now (counted as done). */
    boolean due(long nowNanos) {
        if (renewed && nowNanos - lastNanos < pauseNanos) {
            return false;
        }
        if (renewed) {
            pauseNanos = Math.min(longestPauseNanos, pauseNanos * 2);
        }
        renewed = true;
        lastNanos = nowNanos;
        return true;
    }

    /** A write landed: the next refusal is a new spell, renewed at once, then after the first pause. */
    void writeLanded() {
        renewed = false;
        pauseNanos = firstPauseNanos;
    }
}
