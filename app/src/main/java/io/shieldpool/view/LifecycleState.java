package io.shieldpool.view;

/**
 * The pool's lifecycle states, in the only order they can be visited. A state may be skipped
 * (a signal during start-up goes from STARTING straight to DRAINING) but never revisited.
 */
public enum LifecycleState {
    /** Vert.x and the pool are being set up; no section has been admitted yet. */
    STARTING,
    /** The stop gate is open: workers admit sections. */
    RUNNING,
    /** The stop gate is closed: no new section starts, sections in flight run to their end. */
    DRAINING,
    /**
     * The drain is being cut (the grace cap expired, or a second SIGINT): the sections still in
     * flight are being abandoned and what they started outside the JVM stopped. Entered once.
     */
    CUTTING,
    /** Every section has ended (or was abandoned at the grace cap); Vert.x may close. */
    STOPPED;

    /** Lower-case name as it appears in logs and status output. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
