package io.shieldpool.pool;

/** How a section ended; the value of the {@code outcome} field in events. */
enum SectionOutcome {
    COMPLETED, FAILED, TIMED_OUT, ABANDONED;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
