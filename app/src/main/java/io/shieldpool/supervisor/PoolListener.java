package io.shieldpool.supervisor;

import java.time.Duration;

/**
 * Lifecycle news from the supervisor, for the parts that report on the pool (systemd
 * notification, metrics, the admin server). Called on the supervisor's context: implementations
 * must return quickly and never block. Every method has a no-op default.
 */
public interface PoolListener {

    /** The pool is running with {@code workers} workers: the daemon is ready. */
    default void ready(int workers) {
    }

    /** A stop signal closed the gates; {@code inFlight} sections are being drained within {@code grace}. */
    default void drainBegan(String signal, long inFlight, Duration grace) {
    }

    /** The pool has stopped; Vert.x is about to close. */
    default void stopped(ShutdownReport report) {
    }
}
