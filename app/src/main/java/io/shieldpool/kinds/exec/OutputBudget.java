package io.shieldpool.kinds.exec;

/**
 * The output limits of one command, shared by its stdout and stderr readers: the longest line
 * logged and a token bucket of lines per second (burst: one second's worth). A line over the
 * budget is dropped, never waited for: the readers keep draining the pipes, so a chatty command
 * is never blocked on a full pipe and never slows anything else. Thread-safe.
 */
final class OutputBudget {

    private static final long SECOND = 1_000_000_000L;

    private final int maxLineLength;
    private final int linesPerSecond;
    private double tokens;
    private long refilledAt;
    private long dropped;
    private long droppedTotal;
    private long reportedAt;
    private boolean truncationReported;

    /**
     * @param maxLineLength  longest line logged, in bytes
     * @param linesPerSecond most lines logged per second; 0 means no limit
     * @param now            System.nanoTime() now (injected so the bucket is tested without sleeping)
     */
    OutputBudget(int maxLineLength, int linesPerSecond, long now) {
        this.maxLineLength = maxLineLength;
        this.linesPerSecond = linesPerSecond;
        this.tokens = linesPerSecond;
        this.refilledAt = now;
        this.reportedAt = now;
    }

    int maxLineLength() {
        return maxLineLength;
    }

    /** Takes one line's token; false means drop the line (it is counted). */
    synchronized boolean admit(long now) {
        if (linesPerSecond == 0) {
            return true;
        }
        long elapsed = now - refilledAt;
        if (elapsed > 0) {
            tokens = Math.min(linesPerSecond, tokens + (double) elapsed * linesPerSecond / SECOND);
            refilledAt = now;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        dropped++;
        droppedTotal++;
        return false;
    }

    /**
     * Lines dropped since the last report, when a report is due (at most one a second, or
     * {@code force} at the end of the command); 0 when there is nothing to report now.
     */
    synchronized long takeDroppedReport(long now, boolean force) {
        if (dropped == 0 || (!force && now - reportedAt < SECOND)) {
            return 0;
        }
        long count = dropped;
        dropped = 0;
        reportedAt = now;
        return count;
    }

    synchronized long droppedTotal() {
        return droppedTotal;
    }

    /** True the first time only: one truncation WARN per command. */
    synchronized boolean firstTruncation() {
        boolean first = !truncationReported;
        truncationReported = true;
        return first;
    }
}
