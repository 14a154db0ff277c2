package io.shieldpool.view;

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

    /** A reload (SIGHUP) has begun: the config file is being read again. */
    default void reloadBegan() {
    }

    /**
     * A reload has ended.
     *
     * @param applied true if the new config was swapped in, false if it was rejected (old one kept)
     * @param summary one line: the changed keys, or the problems
     */
    default void reloadEnded(boolean applied, String summary) {
    }

    /** The desired pool size changed (reload, SIGTTIN/SIGTTOU). */
    default void resized(int from, int to) {
    }

    /** The pool has stopped; Vert.x is about to close. */
    default void stopped(ShutdownReport report) {
    }
}
