package io.shieldpool.control;

import io.shieldpool.time.Ticker;
import io.shieldpool.config.ConfigSource;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.kinds.Work;
import io.shieldpool.pool.Pool;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolListener;
import io.shieldpool.view.PoolView;
import io.shieldpool.view.ShutdownReport;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * The pool's manager, gunicorn's arbiter: owns the lifecycle and hands each signal to the part
 * that acts on it ({@link Drain}, {@link Reloader}, {@link Resizer}). Everything it does runs on
 * its own event-loop context: signals and pool news are handed to that context, so its state needs
 * no locks. What the outside may see of the pool is {@link #view()}.
 *
 * <p>Signals: the first SIGTERM or SIGINT drains (see {@link Drain}); a second SIGINT cuts the
 * drain, unless it comes within {@link #SAME_KEY_PRESS} of the previous one: one Ctrl+C that a
 * wrapper in the terminal's process group (such as {@code timeout --foreground}) forwarded again.
 * A further SIGTERM is logged and ignored. SIGHUP reloads, SIGTTIN/SIGTTOU resize by one.
 *
 * <p>Threads: every field here and in the parts is written on the supervisor's context only. The
 * few that the view reads from other threads (the admin server's, the watchdog's) are volatile;
 * no other field is, and none needs a lock.
 */
public final class Supervisor extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    /**
     * Two SIGINTs closer than this are one key press. why: a terminal sends Ctrl+C to its whole
     * foreground process group, and a wrapper in that group forwards it to the daemon as well, a
     * fraction of a millisecond later; a person pressing Ctrl+C twice on purpose takes longer.
     */
    public static final Duration SAME_KEY_PRESS = Duration.ofMillis(250);

    private final EffectiveConfig initial;
    private final ConfigSource configSource;
    private final KindRuntime kinds;
    private final SignalSource signals;
    private final Ticker injectedClock;
    private final Lifecycle lifecycle = new Lifecycle();
    private final StatusView view;
    private PoolListener listeners = new Listeners(List.of());

    private Ticker clock;
    private Pool pool;
    private Drain drain;
    private volatile java.util.function.IntFunction<io.shieldpool.jobs.runtime.JobFeed> jobFeeds;
    private volatile Runnable beforeReport = () -> { };
    private Resizer resizer;
    private Reloader reloader;
    private volatile boolean poolDeployed;
    private volatile long workerRestarts;
    private boolean interrupted;
    private long lastInterruptNanos;

    /**
     * @param initial      the validated config the daemon started with
     * @param configSource reads it again on SIGHUP
     * @param kinds        builds the work for a config (again after a reload that changes it)
     * @param signals      where TERM, INT, HUP, TTIN and TTOU come from
     * @param clock        the drain's time; null for the real one
     */
    public Supervisor(EffectiveConfig initial, ConfigSource configSource, KindRuntime kinds, SignalSource signals,
                      Ticker clock) {
        this.initial = initial;
        this.configSource = configSource;
        this.kinds = kinds;
        this.signals = signals;
        this.injectedClock = clock;
        this.view = new StatusView(this);
    }

    public Supervisor(EffectiveConfig initial, ConfigSource configSource, KindRuntime kinds, SignalSource signals) {
        this(initial, configSource, kinds, signals, null);
    }

    /**
     * Deploys the supervisor, which starts the pool; {@code listeners} get every piece of
     * lifecycle news from the first one on.
     */
    public Future<String> deploy(Vertx vertx, List<PoolListener> listeners) {
        this.listeners = new Listeners(listeners);
        return vertx.deployVerticle(this);
    }

    /** Sections take their jobs from the feed this gives for each shard index; set before deploying. */
    public void useJobs(java.util.function.IntFunction<io.shieldpool.jobs.runtime.JobFeed> feeds) {
        this.jobFeeds = feeds;
    }

    /**
     * Sets what to do once the pool has stopped, before the final report: a blocking action (run
     * off the event loop), such as committing the last acks and closing the job store, so the
     * report stays the last word. Set before deploying.
     */
    public void beforeReport(Runnable blockingAction) {
        this.beforeReport = blockingAction;
    }

    /** Completes once the pool has stopped, with how it ended; Vert.x may close after that. */
    public Future<ShutdownReport> finished() {
        return drain.finished();
    }

    /** What the admin server, metrics and systemd may see of the pool. */
    public PoolView view() {
        return view;
    }

    public LifecycleState state() {
        return lifecycle.state();
    }

    /** The config the pool runs on now (it changes on a reload). */
    public ShieldpoolConfig currentConfig() {
        return reloader == null ? initial.config() : reloader.current();
    }

    /** Workers replaced after their loop died, over the whole run. */
    public long workerRestarts() {
        return workerRestarts;
    }

    @Override
    public void init(Vertx vertx, Context context) {
        super.init(vertx, context);
        clock = injectedClock != null ? injectedClock : Ticker.of(vertx);
        resizer = new Resizer(initial.config().pool().size(), lifecycle, listeners, kinds);
        reloader = new Reloader(initial, lifecycle, vertx, configSource, kinds, resizer, listeners);
        drain = new Drain(lifecycle, clock, vertx, listeners, kinds::afterCut, this::replaceWorker);
        drain.beforeReport(() -> beforeReport.run());
        view.attach(context);
    }

    @Override
    public Future<?> start() {
        ShieldpoolConfig config = currentConfig();
        Work work = kinds.create(config);
        pool = new Pool(vertx, config.pool().eventLoops(), work, config.backoff(), drain);
        if (jobFeeds != null) {
            pool.useJobs(jobFeeds);
        }
        signals.attach(name -> context.runOnContext(v -> onSignal(name)));
        return pool.deploy().compose(v -> {
            poolDeployed = true;
            drain.poolDeployed(pool);
            if (lifecycle.isStopping()) {
                return Future.succeededFuture(); // a signal arrived during start-up: nothing was started
            }
            return resizer.startWorkers(pool).map(ignored -> {
                if (lifecycle.isStopping()) {
                    return null; // a signal came while the workers were starting; the drain has them
                }
                lifecycle.goTo(LifecycleState.RUNNING);
                int size = resizer.desiredSize();
                log.atInfo().addKeyValue("event", "ready").addKeyValue("workers", size)
                        .log("pool running: {} workers on {} event loops, work {}", size, pool.shardCount(), work.type());
                listeners.ready(size);
                reloader.poolRunning(pool);
                return null;
            });
        });
    }

    // ---- what the view reads ----

    Lifecycle lifecycle() {
        return lifecycle;
    }

    /** The pool once deployed, else null; on the supervisor's context only. */
    Pool deployedPool() {
        return poolDeployed ? pool : null;
    }

    Drain drain() {
        return drain;
    }

    int desiredSize() {
        return resizer == null ? initial.config().pool().size() : resizer.desiredSize();
    }

    long configVersion() {
        return reloader == null ? 1 : reloader.configVersion();
    }

    // ---- signals ----

    private void onSignal(String name) {
        switch (name) {
            case "TERM", "INT" -> onStopSignal(name);
            case "HUP" -> reloader.onSignal();
            case "TTIN" -> resizer.nudge(+1, name, currentConfig().pool().size());
            case "TTOU" -> resizer.nudge(-1, name, currentConfig().pool().size());
            default -> log.atInfo().addKeyValue("event", "signal.ignored").addKeyValue("signal", "SIG" + name)
                .log("signal {} ignored: no action is bound to it", name);
        }
    }

    private void onStopSignal(String name) {
        boolean sameKeyPress = false;
        if (name.equals("INT")) {
            long now = clock.nanoTime();
            sameKeyPress = interrupted && now - lastInterruptNanos < SAME_KEY_PRESS.toNanos();
            interrupted = true;
            lastInterruptNanos = now;
        }
        if (!drain.begun()) {
            drain.begin("SIG" + name, currentConfig().shutdown().grace());
            return;
        }
        // why: the drain's shutdown.begin line is logged once the gates have closed; what this
        // signal does is logged after it, so the log follows the order the signals came in.
        boolean repeatedPress = sameKeyPress;
        drain.afterAnnouncement(() -> onRepeatedStopSignal(name, repeatedPress));
    }

    private void onRepeatedStopSignal(String name, boolean sameKeyPress) {
        if (name.equals("INT") && lifecycle.is(LifecycleState.DRAINING)) {
            if (sameKeyPress) {
                log.atInfo().addKeyValue("event", "signal.same-press").addKeyValue("signal", "SIGINT")
                .log("SIGINT again within {} ms: taken as the same Ctrl+C (forwarded twice, e.g. by a wrapper "
                        + "in the terminal's process group); press Ctrl+C again to force the exit", SAME_KEY_PRESS.toMillis());
                return;
            }
            log.atWarn().addKeyValue("event", "shutdown.forced").addKeyValue("signal", "SIGINT")
                .log("second SIGINT: forcing exit now, cutting the sections still in flight");
            drain.cut("second SIGINT");
        } else {
            log.atInfo().addKeyValue("event", "signal.ignored").addKeyValue("signal", "SIG" + name).addKeyValue("state", lifecycle.toString())
                .log("SIG{} ignored: already {}; a second SIGINT forces the exit", name, lifecycle);
        }
    }

    private boolean replaceWorker(long workerId, Throwable cause) {
        log.atError().addKeyValue("event", "worker.died").addKeyValue("worker", workerId).setCause(cause)
                .log("worker {} died: {}; starting a replacement", workerId, cause.toString());
        if (lifecycle.isStopping()) {
            return false;
        }
        workerRestarts++;
        return true;
    }
}
