package io.shieldpool.view;

/** What a worker is doing; changed only on its shard's thread. */
public enum WorkerState {
    /** Between sections: about to ask the gate for the next one. */
    IDLE,
    /** Running a shielded section. */
    BUSY,
    /** Waiting out the backoff after a failed section. */
    BACKOFF,
    /**
     * Running its last section: a shrink chose it to leave once the section ends. Shown in
     * status only; the worker's own state machine keeps BUSY plus a retiring flag.
     */
    RETIRING,
    /** Its section was cut at the grace cap; whatever it does later is not counted. */
    ABANDONED,
    /** Its loop has ended (the gate refused it, it retired, or it died). */
    STOPPED;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
