package io.shieldpool.control;

import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.ConfigSource;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.pool.Pool;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolListener;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Reloads (SIGHUP), on the control's context. Contract: the file is read and validated off the
 * event loop; a valid one is swapped in whole (keys that cannot change live are reported and keep
 * their value), an invalid one changes nothing. Reloads never overlap: a SIGHUP during a reload
 * schedules one more, so a burst converges on the file's last contents.
 */
final class Reloader {

    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    private final Lifecycle lifecycle;
    private final Vertx vertx;
    private final ConfigSource source;
    private final KindRuntime kinds;
    private final Resizer resizer;
    private final PoolListener listeners;
    private Pool pool;

    private volatile EffectiveConfig effective;
    private volatile long configVersion = 1;
    private boolean reloading;
    private boolean again;

    Reloader(EffectiveConfig initial, Lifecycle lifecycle, Vertx vertx, ConfigSource source, KindRuntime kinds,
             Resizer resizer, PoolListener listeners) {
        this.effective = initial;
        this.lifecycle = lifecycle;
        this.vertx = vertx;
        this.source = source;
        this.kinds = kinds;
        this.resizer = resizer;
        this.listeners = listeners;
    }

    /** The config the pool runs on now; any thread. */
    ShieldpoolConfig current() {
        return effective.config();
    }

    /** 1 at start, +1 per applied reload; any thread. */
    long configVersion() {
        return configVersion;
    }

    /** The pool is running: a SIGHUP that came during start-up is acted on now. */
    void poolRunning(Pool running) {
        this.pool = running;
        if (again) {
            again = false;
            reload();
        }
    }

    void onSignal() {
        if (lifecycle.isStopping()) {
            log.atInfo().addKeyValue("event", "signal.ignored").addKeyValue("signal", "SIGHUP").addKeyValue("state", lifecycle.toString())
                .log("SIGHUP ignored: the pool is {}; a reload would change nothing now", lifecycle);
        } else if (lifecycle.is(LifecycleState.STARTING)) {
            log.atInfo().addKeyValue("event", "reload.deferred")
                .log("SIGHUP during start-up: the config is reloaded once the pool is ready");
            again = true;
        } else if (reloading) {
            again = true; // one more after this one: a burst converges on the last contents
        } else {
            reload();
        }
    }

    private void reload() {
        reloading = true;
        String file = current().source().map(Object::toString).orElse("(no file: embedded defaults)");
        log.atInfo().addKeyValue("event", "reload.begin").addKeyValue("file", file).log("reloading {}", file);
        listeners.reloadBegan();
        vertx.executeBlocking(source::load, false).onComplete(ar -> {
            reloading = false;
            if (lifecycle.isStopping()) {
                log.atInfo().addKeyValue("event", "reload.discarded").addKeyValue("state", lifecycle.toString())
                .log("reload discarded: the pool is {}", lifecycle);
                listeners.reloadEnded(false, "shutdown began");
                return;
            }
            java.util.Optional<ConfigProblem> tooBig = ar.succeeded() ? heapRefusal(ar.result()) : java.util.Optional.empty();
            if (tooBig.isPresent()) {
                rejected(new InvalidConfigException(List.of(tooBig.get())));
            } else if (ar.succeeded()) {
                apply(ReloadPlan.of(effective, ar.result()), ar.result());
            } else {
                rejected(ar.cause());
            }
            if (again) {
                again = false;
                reload();
            }
        });
    }

    /** A pool.size the heap cannot hold, as a problem at the key's origin (see {@link HeapBudget}). */
    private java.util.Optional<ConfigProblem> heapRefusal(EffectiveConfig loaded) {
        int to = loaded.config().pool().size();
        return HeapBudget.refusalHere(resizer.desiredSize(), to).map(expected -> {
            EffectiveConfig.Entry entry = loaded.entries().get(ShieldpoolConfig.Pool.SIZE.key());
            return new ConfigProblem(ShieldpoolConfig.Pool.SIZE.key(), String.valueOf(to), expected,
                    entry == null ? null : entry.origin());
        });
    }

    private void rejected(Throwable cause) {
        List<String> problems = cause instanceof InvalidConfigException invalid
                ? invalid.problems().stream().map(ConfigProblem::toString).toList()
                : List.of(cause.toString());
        for (String problem : problems) {
            log.atError().addKeyValue("event", "reload.failed").addKeyValue("problem", problem)
                    .log("reload rejected, the running config is kept: {}", problem);
        }
        listeners.reloadEnded(false, problems.size() + " problem(s): " + problems.getFirst());
    }

    private void apply(ReloadPlan plan, EffectiveConfig loaded) {
        int sizeBefore = resizer.desiredSize();
        ShieldpoolConfig applied = plan.applied();
        if (plan.workChanged()) {
            pool.useWork(kinds.create(applied));
        }
        if (plan.backoffChanged()) {
            pool.useBackoff(applied.backoff());
        }
        if (applied.log().level() != current().log().level()) {
            LogSetup.setLevel(applied.log().level());
        }
        effective = ReloadPlan.running(plan, effective, loaded);
        configVersion++;
        for (String key : plan.needRestart()) {
            log.atWarn().addKeyValue("event", "reload.restart-needed").addKeyValue("key", key)
                    .log("{} changed in the file but only takes effect at start-up: restart to apply it", key);
        }
        resizer.resize(applied.pool().size(), "reload");
        String keys = String.join(", ", plan.appliedKeys());
        log.atInfo().addKeyValue("event", "reload.complete").addKeyValue("changed", List.copyOf(plan.appliedKeys()))
                .addKeyValue("restart_needed", List.copyOf(plan.needRestart()))
                .addKeyValue("pool_size_before", sizeBefore).addKeyValue("pool_size_after", resizer.desiredSize())
                .addKeyValue("config_version", configVersion)
                .log("reload applied (config version {}): {}", configVersion, keys.isEmpty() ? "nothing changed" : keys);
        // why the restart-only keys too: `shieldpool reload` (systemctl reload) prints this, and an
        // edited admin.port said "no change", exit 0, with the port still the old one.
        String restart = plan.needRestart().isEmpty() ? ""
                : "; not applied until a restart: " + String.join(", ", plan.needRestart());
        listeners.reloadEnded(true, (keys.isEmpty() ? "no change" : "changed: " + keys) + restart);
    }
}
