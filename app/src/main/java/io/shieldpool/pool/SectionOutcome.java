package io.shieldpool.pool;

/** How a section ended; the value of the {@code outcome} field in events. */
public enum SectionOutcome {
    COMPLETED, FAILED, TIMED_OUT, ABANDONED;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
