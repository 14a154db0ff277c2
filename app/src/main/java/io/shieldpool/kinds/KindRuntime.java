package io.shieldpool.kinds;

import io.micrometer.core.instrument.MeterRegistry;
import io.shieldpool.config.ShieldpoolConfig;

/**
 * The running side of the configured work kind, for the daemon's whole life: it builds the
 * {@link Work} for a config (again after each reload that changes it) and owns what must outlive
 * one such work (an HTTP client, the commands still running, a plug-in instance).
 */
@FunctionalInterface
public interface KindRuntime {

    /** The work for {@code config}. Called on the control's event loop; must not block. */
    Work create(ShieldpoolConfig config);

    /** The pool's desired size changed (a reload, SIGTTIN/SIGTTOU). Any thread; never blocks. */
    default void poolResized(int poolSize) {
    }

    /**
     * The grace cap cut the sections in flight: stop what they started outside the JVM (commands
     * of the exec kind), before the final report. Blocking; called off the event loops, once.
     */
    default void afterCut() {
    }

    /**
     * Adds the kind's own meters to /metrics (the http kind's stale-connection retries). Called
     * once, off the event loops, when the registry is first built; meters must be functions of
     * counters the kind keeps, read at each scrape.
     */
    default void bindMeters(MeterRegistry registry) {
    }

    /** Releases everything, once the pool has stopped. Blocking, bounded; off the event loops. */
    default void shutdown() {
    }
}
