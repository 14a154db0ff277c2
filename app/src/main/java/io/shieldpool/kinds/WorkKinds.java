package io.shieldpool.kinds;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.plugin.SectionPlugin;
import io.shieldpool.kinds.demo.DemoWork;
import io.shieldpool.kinds.exec.Children;
import io.shieldpool.kinds.exec.ExecWork;
import io.shieldpool.kinds.http.HttpWork;
import io.shieldpool.kinds.plugin.PluginWork;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Builds the {@link Work} that {@code shieldpool.work.type} names, from a validated config, again
 * on each reload that changes its parameters. What must outlive one such work lives here: the
 * plug-in instance, the HTTP client and its rate limit, the exec children still running.
 */
public final class WorkKinds implements KindRuntime {

    private final Vertx vertx;
    private final Optional<PluginWork.Factory> plugins;
    private final Children children = new Children();
    private volatile HttpWork.Factory http;
    private volatile Duration killAfter;

    /**
     * @param vertx  the daemon's Vert.x
     * @param plugin the plug-in that work.type names, when it names one (see
     *               {@link io.shieldpool.kinds.plugin.PluginLoader})
     */
    public WorkKinds(Vertx vertx, Optional<SectionPlugin> plugin) {
        this.vertx = vertx;
        this.plugins = plugin.map(p -> new PluginWork.Factory(p, vertx));
    }

    /** The work for {@code config}. Called on the supervisor's thread. */
    @Override
    public Work create(ShieldpoolConfig config) {
        ShieldpoolConfig.Work work = config.work();
        Duration timeout = work.timeout();
        killAfter = work.exec().killAfter();
        return switch (work.type()) {
            case "demo" -> new DemoWork(work.demo(), timeout);
            case "exec" -> new ExecWork(work.exec(), timeout, vertx, children);
            case "http" -> {
                if (http == null) {
                    http = new HttpWork.Factory(vertx, config.pool().size());
                }
                yield http.create(work.http(), timeout, config.pool().size());
            }
            default -> plugins.orElseThrow(() -> new IllegalStateException("no plug-in loaded for " + work.type()))
                    .create(work.settings(), timeout);
        };
    }

    /**
     * The pool's desired size changed (a reload or SIGTTIN/SIGTTOU): the HTTP client makes room for
     * one connection per worker. Any thread; never blocks.
     */
    @Override
    public void poolResized(int poolSize) {
        HttpWork.Factory client = http;
        if (client != null) {
            client.poolResized(poolSize);
        }
    }

    /**
     * Terminates the commands still running (SIGTERM to each one's process group, SIGKILL after
     * {@code exec.kill-after}) and waits for them; a no-op when none runs. Blocking.
     */
    @Override
    public void afterCut() {
        children.terminateAll(killAfter == null ? Duration.ofSeconds(5) : killAfter);
    }

    /**
     * Releases what the works hold, once the pool has stopped: commands still running (only after
     * the grace cap cut their sections) are terminated and waited for; the HTTP client is closed.
     * Blocking, bounded by {@code exec.kill-after} plus a few seconds; call off the event loops.
     */
    @Override
    public void shutdown() {
        afterCut();
        if (http != null) {
            try {
                http.close().await(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // Vert.x closes it anyway
            }
        }
    }
}
