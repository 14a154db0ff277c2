package io.shieldpool.work.exec;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.work.ActiveSection;
import io.shieldpool.work.Work;
import io.vertx.core.Vertx;

import java.time.Duration;

/**
 * The exec kind: each section runs {@code work.exec.command} once and waits for it; exit status 0
 * completes the section, anything else fails it.
 */
public final class ExecWork implements Work {

    private final ShieldpoolConfig.Exec settings;
    private final Duration timeout;
    private final Vertx vertx;
    private final Children children;

    /**
     * @param settings the exec keys
     * @param timeout  work.timeout (zero: none)
     * @param vertx    the daemon's Vert.x
     * @param children every command running, shared across reloads
     */
    public ExecWork(ShieldpoolConfig.Exec settings, Duration timeout, Vertx vertx, Children children) {
        this.settings = settings;
        this.timeout = timeout;
        this.vertx = vertx;
        this.children = children;
    }

    @Override
    public String type() {
        return "exec";
    }

    @Override
    public void begin(ActiveSection section) {
        new ExecRun(section, vertx.getOrCreateContext(), vertx, timeout, settings, children).start();
    }
}
