package io.shieldpool.control;

import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.pool.Pool;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolListener;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's desired size and the changes to it (a reload, SIGTTIN/SIGTTOU), on the control's
 * context. A shrink never cuts a section: surplus workers retire between sections.
 */
final class Resizer {

    private static final Logger log = LoggerFactory.getLogger(Resizer.class);

    private final Lifecycle lifecycle;
    private final PoolListener listeners;
    private final KindRuntime kinds;
    private volatile int desiredSize;
    private Pool pool;

    Resizer(int initialSize, Lifecycle lifecycle, PoolListener listeners, KindRuntime kinds) {
        this.desiredSize = initialSize;
        this.lifecycle = lifecycle;
        this.listeners = listeners;
        this.kinds = kinds;
    }

    /** The size the configuration (or a run-time override) asks for; any thread. */
    int desiredSize() {
        return desiredSize;
    }

    /** Starts the pool's first workers. */
    Future<Void> startWorkers(Pool deployed) {
        this.pool = deployed;
        return pool.resize(desiredSize);
    }

    /** SIGTTIN (+1) or SIGTTOU (-1): a run-time override of pool.size until the next reload. */
    void nudge(int delta, String signal, int configured) {
        if (!lifecycle.is(LifecycleState.RUNNING)) {
            log.info("SIG{} ignored: the pool is {}", signal, lifecycle);
            return;
        }
        int target = Math.max(0, desiredSize + delta);
        log.warn("SIG{}: pool size {} -> {}; a run-time override of pool.size ({} in the config) until the next reload",
                signal, desiredSize, target, configured);
        resize(target, "SIG" + signal);
    }

    void resize(int target, String reason) {
        int from = desiredSize;
        if (from == target) {
            return;
        }
        desiredSize = target;
        log.atInfo().addKeyValue("event", "pool.resize").addKeyValue("from", from).addKeyValue("to", target)
                .addKeyValue("reason", reason).log("pool size {} -> {} ({})", from, target, reason);
        // why: a resize (SIGTTIN above all) builds no new work, yet the http client must make room.
        kinds.poolResized(target);
        listeners.resized(from, target);
        long begun = System.nanoTime();
        pool.resize(target).onSuccess(v -> log.atInfo().addKeyValue("event", "pool.resized")
                .addKeyValue("workers", target).addKeyValue("took_ms", (System.nanoTime() - begun) / 1_000_000)
                .log("pool resized to {} workers (new workers started, surplus retiring)", target));
    }
}
