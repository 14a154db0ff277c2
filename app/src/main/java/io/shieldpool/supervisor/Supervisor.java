package io.shieldpool.supervisor;

import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.ConfigSource;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.lifecycle.ExitCode;
import io.shieldpool.lifecycle.Lifecycle;
import io.shieldpool.lifecycle.LifecycleState;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.work.Work;
import io.shieldpool.worker.SectionDurationSnapshot;
import io.shieldpool.worker.Shard;
import io.shieldpool.worker.ShardListener;
import io.shieldpool.worker.ShardSnapshot;
import io.shieldpool.worker.WorkerCensus;
import io.shieldpool.worker.WorkerStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The manager: owns the lifecycle, the shards and their workers, resizing, reloads and the
 * shutdown. Everything it does runs on its own event-loop context: signals and shard news are
 * handed to that context, so its state needs no locks.
 *
 * <p>Shutdown contract: the first SIGTERM or SIGINT closes every shard's stop gate (no section
 * starts after that instant; every section admitted before it is in flight) and waits for the
 * sections in flight to end. {@code shutdown.grace} is a hard cap: when it expires, or on a second
 * SIGINT, each section still running is reported once as abandoned and the report carries
 * {@link ExitCode#DRAIN_CUT}. Only after the report may Vert.x close.
 *
 * <p>Reload contract (SIGHUP): the file is read and validated off the event loop; a valid one is
 * swapped in whole (keys that cannot change live are reported and keep their value), an invalid
 * one changes nothing. Reloads never overlap: a SIGHUP during a reload schedules one more, so a
 * burst converges on the file's last contents. A shrink never cuts a section.
 */
public final class Supervisor extends VerticleBase implements ShardListener {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final SignalSource signals;
    private final ConfigSource configSource;
    private final Function<ShieldpoolConfig, Work> workFactory;
    private final Lifecycle lifecycle = new Lifecycle();
    private final Promise<ShutdownReport> finished = Promise.promise();
    private final List<Shard> shards = new ArrayList<>();
    private final List<PoolListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong nextWorkerId = new AtomicLong(1);
    private volatile Runnable afterCut = () -> { };
    private volatile Runnable beforeReport = () -> { };
    private volatile java.util.function.IntFunction<io.shieldpool.jobs.JobFeed> jobFeeds;

    private volatile EffectiveConfig effective;
    private volatile int desiredSize;
    private volatile long configVersion = 1;
    private volatile long workerRestarts;
    private volatile long reloadsApplied;
    private volatile long reloadsFailed;
    private boolean shardsDeployed;
    private boolean reloading;
    private boolean reloadAgain;
    private Drain drain;
    /** The supervisor's context once deployed; volatile so other threads (the admin server) may ask for it. */
    private volatile Context home;

    /**
     * @param initial      the validated config the daemon started with
     * @param configSource reads it again on SIGHUP
     * @param workFactory  builds the work for a config (again after a reload that changes it)
     * @param signals      where TERM, INT, HUP, TTIN and TTOU come from
     */
    public Supervisor(EffectiveConfig initial, ConfigSource configSource, Function<ShieldpoolConfig, Work> workFactory,
                      SignalSource signals) {
        this.effective = initial;
        this.configSource = configSource;
        this.workFactory = workFactory;
        this.signals = signals;
        this.desiredSize = initial.config().pool().size();
    }

    /** Completes once the pool has stopped, with how it ended; Vert.x may close after that. */
    public Future<ShutdownReport> finished() {
        return finished.future();
    }

    /** Adds a listener for lifecycle news; add before deploying to miss nothing. */
    public void addListener(PoolListener listener) {
        listeners.add(listener);
    }

    public LifecycleState state() {
        return lifecycle.state();
    }

    /** The config the pool runs on now (it changes on a reload). */
    public ShieldpoolConfig currentConfig() {
        return effective.config();
    }

    /** 1 at start, +1 per applied reload. */
    public long configVersion() {
        return configVersion;
    }

    /** Workers replaced after their loop died, over the whole run. */
    public long workerRestarts() {
        return workerRestarts;
    }

    public long reloadsApplied() {
        return reloadsApplied;
    }

    public long reloadsFailed() {
        return reloadsFailed;
    }

    @Override
    public Future<?> start() {
        signals.attach(name -> context.runOnContext(v -> onSignal(name)));
        ShieldpoolConfig config = currentConfig();
        Work work = workFactory.apply(config);
        int shardCount = config.pool().eventLoops();
        List<Future<String>> deployments = new ArrayList<>();
        for (int i = 0; i < shardCount; i++) {
            Shard shard = new Shard(i, shardCount, work, config.backoff(), this);
            if (jobFeeds != null) {
                shard.useJobs(jobFeeds.apply(i));
            }
            shards.add(shard);
            deployments.add(vertx.deployVerticle(shard));
        }
        return Future.all(deployments).compose(v -> {
            shardsDeployed = true;
            if (lifecycle.isStopping()) {
                // A signal arrived during start-up: no worker was started, nothing is in flight.
                return closeGatesAndWait();
            }
            return resizeShards(desiredSize).map(ignored -> {
                if (lifecycle.isStopping()) {
                    return null; // a signal came while the workers were starting; the drain has them
                }
                lifecycle.goTo(LifecycleState.RUNNING);
                log.atInfo().addKeyValue("event", "ready").addKeyValue("workers", desiredSize)
                        .log("pool running: {} workers on {} event loops, work {}", desiredSize, shards.size(),
                                work.type());
                listeners.forEach(l -> l.ready(desiredSize));
                if (reloadAgain) {
                    reloadAgain = false;
                    reload();
                }
                return null;
            });
        });
    }

    /**
     * The pool's status, gathered on the supervisor's and the shards' own threads; may be called
     * from any thread. {@code workerLimit} bounds the per-worker list (a million would not help).
     * Each shard is read in one visit, so its counts, census and workers agree; before the shards
     * are up the status has the state and nothing counted. Completes on the supervisor's thread.
     */
    public Future<PoolStatus> status(int workerLimit) {
        Context supervisorContext = home;
        if (supervisorContext == null) {
            return Future.succeededFuture(notStartedStatus());
        }
        Promise<PoolStatus> promise = Promise.promise();
        supervisorContext.runOnContext(v -> {
            if (!shardsDeployed) {
                promise.complete(notStartedStatus());
                return;
            }
            // why: one hop per shard reads all of that shard's parts together, so they agree.
            forAllShards(shard -> shard.onShard(() -> new ShardReport(shard.snapshot(), shard.workers(workerLimit),
                    shard.census(), shard.sectionDurations()))).onComplete(ar -> {
                if (ar.failed()) {
                    promise.fail(ar.cause());
                    return;
                }
                ShardSnapshot sum = ShardSnapshot.EMPTY;
                WorkerCensus census = WorkerCensus.EMPTY;
                SectionDurationSnapshot sectionDurations = SectionDurationSnapshot.EMPTY;
                List<WorkerStatus> list = new ArrayList<>();
                for (ShardReport report : ar.result()) {
                    sum = sum.plus(report.snapshot());
                    census = census.plus(report.census());
                    sectionDurations = sectionDurations.plus(report.durations());
                    list.addAll(report.workers());
                }
                ShardSnapshot totals = sum;
                list.sort(Comparator.comparingLong(WorkerStatus::id));
                if (list.size() > workerLimit) {
                    list = list.subList(0, workerLimit);
                }
                promise.complete(new PoolStatus(lifecycle.state(), desiredSize, totals,
                        Optional.ofNullable(drain).map(d -> d.progress(totals.inFlight(), System.nanoTime())),
                        List.copyOf(list), configVersion, currentConfig().work().type(), workerRestarts, census,
                        sectionDurations));
            });
        });
        return promise.future();
    }

    /**
     * The busy worker that has gone longest without progress across the pool, if any is busy; may
     * be called from any thread. Visits every shard's thread, so it completes only while they all
     * answer. Completes on the supervisor's thread.
     */
    public Future<Optional<WorkerStatus>> slowestBusyWorker() {
        Context supervisorContext = home;
        if (supervisorContext == null) {
            return Future.succeededFuture(Optional.empty());
        }
        Promise<Optional<WorkerStatus>> promise = Promise.promise();
        supervisorContext.runOnContext(v -> {
            if (!shardsDeployed) {
                promise.complete(Optional.empty());
                return;
            }
            forAllShards(shard -> shard.onShard(() -> Optional.ofNullable(shard.slowestBusyWorker())))
                    .map(all -> all.stream().flatMap(Optional::stream)
                            .max(Comparator.comparingLong(WorkerStatus::sinceProgressMs)))
                    .onComplete(promise);
        });
        return promise.future();
    }

    /** Before the shards are up: the state and the configuration, nothing counted yet. */
    private PoolStatus notStartedStatus() {
        return new PoolStatus(lifecycle.state(), desiredSize, ShardSnapshot.EMPTY, Optional.empty(), List.of(),
                configVersion, currentConfig().work().type(), 0, WorkerCensus.EMPTY, SectionDurationSnapshot.EMPTY);
    }

    /**
     * Completes once the supervisor's event loop has run a no-op: it is responsive. May be called
     * from any thread. Before the supervisor is deployed it completes at once: nothing of it can
     * be stuck yet.
     */
    public Future<Void> ping() {
        Context supervisorContext = home;
        if (supervisorContext == null) {
            return Future.succeededFuture();
        }
        Promise<Void> promise = Promise.promise();
        supervisorContext.runOnContext(v -> promise.complete());
        return promise.future();
    }

    @Override
    public void init(Vertx vertx, Context context) {
        super.init(vertx, context);
        home = context;
    }

    // ---- signals ----

    private void onSignal(String name) {
        switch (name) {
            case "TERM", "INT" -> onStopSignal(name);
            case "HUP" -> onReloadSignal();
            case "TTIN" -> nudgeSize(+1, name);
            case "TTOU" -> nudgeSize(-1, name);
            default -> log.info("signal {} ignored: no action is bound to it", name);
        }
    }

    private void onStopSignal(String name) {
        if (drain == null) {
            beginDrain("SIG" + name);
        } else if (name.equals("INT") && lifecycle.is(LifecycleState.DRAINING)) {
            log.warn("second SIGINT: forcing exit now, cutting the sections still in flight");
            cut("second SIGINT");
        } else {
            log.info("SIG{} ignored: already {}; a second SIGINT forces the exit", name, lifecycle);
        }
    }

    // ---- reload and resize ----

    private void onReloadSignal() {
        if (lifecycle.isStopping()) {
            log.info("SIGHUP ignored: the pool is {}; a reload would change nothing now", lifecycle);
        } else if (lifecycle.is(LifecycleState.STARTING)) {
            log.info("SIGHUP during start-up: the config is reloaded once the pool is ready");
            reloadAgain = true;
        } else if (reloading) {
            reloadAgain = true; // one more after this one: a burst converges on the last contents
        } else {
            reload();
        }
    }

    private void reload() {
        reloading = true;
        String file = currentConfig().source().map(Object::toString).orElse("(no file: embedded defaults)");
        log.atInfo().addKeyValue("event", "reload.begin").addKeyValue("file", file).log("reloading {}", file);
        listeners.forEach(PoolListener::reloadBegan);
        vertx.executeBlocking(configSource::load, false).onComplete(ar -> {
            reloading = false;
            if (lifecycle.isStopping()) {
                log.info("reload discarded: the pool is {}", lifecycle);
                listeners.forEach(l -> l.reloadEnded(false, "shutdown began"));
                return;
            }
            if (ar.succeeded()) {
                apply(ReloadPlan.of(effective, ar.result()), ar.result());
            } else {
                reloadFailed(ar.cause());
            }
            if (reloadAgain) {
                reloadAgain = false;
                reload();
            }
        });
    }

    private void reloadFailed(Throwable cause) {
        reloadsFailed++;
        List<String> problems = cause instanceof InvalidConfigException invalid
                ? invalid.problems().stream().map(ConfigProblem::toString).toList()
                : List.of(cause.toString());
        for (String problem : problems) {
            log.atError().addKeyValue("event", "reload.failed").addKeyValue("problem", problem)
                    .log("reload rejected, the running config is kept: {}", problem);
        }
        listeners.forEach(l -> l.reloadEnded(false, problems.size() + " problem(s): " + problems.getFirst()));
    }

    private void apply(ReloadPlan plan, EffectiveConfig loaded) {
        int sizeBefore = desiredSize;
        ShieldpoolConfig applied = plan.applied();
        if (plan.workChanged()) {
            Work work = workFactory.apply(applied);
            shards.forEach(shard -> shard.onShard(() -> {
                shard.useWork(work);
                return null;
            }));
        }
        if (plan.backoffChanged()) {
            shards.forEach(shard -> shard.onShard(() -> {
                shard.useBackoff(applied.backoff());
                return null;
            }));
        }
        if (applied.log().level() != currentConfig().log().level()) {
            LogSetup.setLevel(applied.log().level());
        }
        effective = new EffectiveConfig(applied, loaded.entries());
        configVersion++;
        reloadsApplied++;
        for (String key : plan.needRestart()) {
            log.atWarn().addKeyValue("event", "reload.restart-needed").addKeyValue("key", key)
                    .log("{} changed in the file but only takes effect at start-up: restart to apply it", key);
        }
        resize(applied.pool().size(), "reload");
        String keys = String.join(", ", plan.appliedKeys());
        log.atInfo().addKeyValue("event", "reload.complete").addKeyValue("changed", List.copyOf(plan.appliedKeys()))
                .addKeyValue("restart_needed", List.copyOf(plan.needRestart()))
                .addKeyValue("pool_size_before", sizeBefore).addKeyValue("pool_size_after", desiredSize)
                .addKeyValue("config_version", configVersion)
                .log("reload applied (config version {}): {}", configVersion, keys.isEmpty() ? "nothing changed" : keys);
        listeners.forEach(l -> l.reloadEnded(true, keys.isEmpty() ? "no change" : "changed: " + keys));
    }

    private void nudgeSize(int delta, String signal) {
        if (!lifecycle.is(LifecycleState.RUNNING)) {
            log.info("SIG{} ignored: the pool is {}", signal, lifecycle);
            return;
        }
        int target = Math.max(0, desiredSize + delta);
        log.warn("SIG{}: pool size {} -> {}; a run-time override of pool.size ({} in the config) until the next reload",
                signal, desiredSize, target, currentConfig().pool().size());
        resize(target, "SIG" + signal);
    }

    private void resize(int target, String reason) {
        int from = desiredSize;
        if (from == target) {
            return;
        }
        desiredSize = target;
        log.atInfo().addKeyValue("event", "pool.resize").addKeyValue("from", from).addKeyValue("to", target)
                .addKeyValue("reason", reason).log("pool size {} -> {} ({})", from, target, reason);
        listeners.forEach(l -> l.resized(from, target));
        long begun = System.nanoTime();
        resizeShards(target).onSuccess(v -> log.atInfo().addKeyValue("event", "pool.resized")
                .addKeyValue("workers", target).addKeyValue("took_ms", (System.nanoTime() - begun) / 1_000_000)
                .log("pool resized to {} workers (new workers started, surplus retiring)", target));
    }

    /** Spreads {@code target} evenly: shard i runs target/n workers, the first target%n one more. */
    private Future<Void> resizeShards(int target) {
        List<Future<Integer>> results = new ArrayList<>();
        for (Shard shard : shards) {
            int share = target / shards.size() + (shard.index() < target % shards.size() ? 1 : 0);
            results.add(shard.onShard(() -> shard.resizeTo(share, nextWorkerId::getAndIncrement)));
        }
        return Future.all(results).mapEmpty();
    }

    // ---- the drain ----

    private void beginDrain(String signal) {
        Duration grace = currentConfig().shutdown().grace();
        drain = new Drain(signal, System.nanoTime(), grace);
        boolean wasStarting = lifecycle.is(LifecycleState.STARTING);
        lifecycle.goTo(LifecycleState.DRAINING);
        vertx.setTimer(Math.max(1, grace.toMillis()), id -> {
            if (!lifecycle.is(LifecycleState.STOPPED)) {
                cut("shutdown.grace of " + grace.toMillis() + " ms expired");
            }
        });
        if (wasStarting && !shardsDeployed) {
            // start() sees the drain once the shards are up, and closes their gates then.
            log.info("{} during start-up: the pool will not start; exiting once start-up is undone", signal);
            return;
        }
        closeGatesAndWait();
    }

    private Future<Void> closeGatesAndWait() {
        return forAllShards(shard -> shard.onShard(shard::closeGate)).onSuccess(inFlightPerShard -> {
            long inFlight = 0;
            for (int i = 0; i < shards.size(); i++) {
                long n = inFlightPerShard.get(i);
                inFlight += n;
                if (n == 0) {
                    drain.shardDrained(i);
                }
            }
            drain.gatesClosed = true;
            log.atInfo().addKeyValue("event", "shutdown.begin").addKeyValue("signal", drain.signal)
                    .addKeyValue("in_flight", inFlight)
                    .log("{}: draining {} section(s) in flight; no new section starts; grace {} ms; "
                                    + "a second SIGINT forces the exit (code {}) and cuts them",
                            drain.signal, inFlight, drain.grace.toMillis(), ExitCode.DRAIN_CUT.code);
            long total = inFlight;
            listeners.forEach(l -> l.drainBegan(drain.signal, total, drain.grace));
            finishIfDrained();
        }).mapEmpty();
    }

    @Override
    public void drained(Shard shard) {
        context.runOnContext(v -> {
            drain.shardDrained(shard.index());
            finishIfDrained();
        });
    }

    @Override
    public void workerDied(Shard shard, long workerId, Throwable cause) {
        context.runOnContext(v -> {
            log.atError().addKeyValue("event", "worker.died").addKeyValue("worker", workerId)
                    .setCause(cause)
                    .log("worker {} died: {}; starting a replacement", workerId, cause.toString());
            if (lifecycle.isStopping()) {
                return;
            }
            workerRestarts++;
            shard.onShard(() -> shard.addWorkers(1, nextWorkerId::getAndIncrement));
        });
    }

    private void finishIfDrained() {
        if (drain == null || !drain.gatesClosed || !drain.allDrained(shards.size())
                || lifecycle.is(LifecycleState.STOPPED)) {
            return;
        }
        finish(ExitCode.OK, "drained");
    }

    private void cut(String reason) {
        forAllShards(shard -> shard.onShard(shard::abandonInFlight)).onComplete(ar -> {
            int cut = ar.succeeded() ? ar.result().stream().mapToInt(Integer::intValue).sum() : -1;
            log.error("drain cut ({}): {} section(s) abandoned", reason, cut);
            // why: what the cut sections started outside the JVM (exec children) is stopped before
            // the final report, so the report is the last word and nothing outlives the exit.
            vertx.executeBlocking(() -> {
                afterCut.run();
                return null;
            }, false).onComplete(done -> finish(ExitCode.DRAIN_CUT, reason));
        });
    }

    /**
     * Sets what to do once the pool has stopped, before the final report: a blocking action (run
     * off the event loop), such as committing the last acks and closing the job store, so the
     * report stays the last word. Set before deploying.
     */
    public void beforeReport(Runnable blockingAction) {
        this.beforeReport = blockingAction;
    }

    /** Sections take their jobs from the feed this gives for each shard index; set before deploying. */
    public void useJobs(java.util.function.IntFunction<io.shieldpool.jobs.JobFeed> feeds) {
        this.jobFeeds = feeds;
    }

    /**
     * Sets what to do once the grace cap has cut the sections in flight, before the final report:
     * a blocking action (run off the event loop), such as terminating the commands those sections
     * started. Set before deploying.
     */
    public void afterCut(Runnable blockingAction) {
        this.afterCut = blockingAction;
    }

    private void finish(ExitCode exitCode, String reason) {
        if (!lifecycle.goTo(LifecycleState.STOPPED)) {
            return;
        }
        long drainMillis = (System.nanoTime() - drain.startNanos) / 1_000_000;
        vertx.executeBlocking(() -> {
            beforeReport.run();
            return null;
        }, false).onComplete(closed -> report(exitCode, reason, drainMillis));
    }

    private void report(ExitCode exitCode, String reason, long drainMillis) {
        forAllShards(shard -> shard.onShard(shard::snapshot)).onComplete(ar -> {
            ShardSnapshot totals = ShardSnapshot.EMPTY;
            if (ar.succeeded()) {
                for (ShardSnapshot s : ar.result()) {
                    totals = totals.plus(s);
                }
            }
            ShutdownReport report = new ShutdownReport(totals, drainMillis, exitCode, reason);
            log.atInfo().addKeyValue("event", "shutdown.complete")
                    .addKeyValue("started", totals.started()).addKeyValue("completed", totals.completed())
                    .addKeyValue("failed", totals.failed()).addKeyValue("timed_out", totals.timedOut())
                    .addKeyValue("abandoned", totals.abandoned())
                    .addKeyValue("drain_ms", drainMillis).addKeyValue("exit_code", exitCode.code)
                    .log("stopped ({}): {} completed, {} failed, {} timed out, {} abandoned; drain took {} ms; exit code {}",
                            reason, totals.completed(), totals.failed(), totals.timedOut(), totals.abandoned(),
                            drainMillis, exitCode.code);
            listeners.forEach(l -> l.stopped(report));
            finished.tryComplete(report);
        });
    }

    private <T> Future<List<T>> forAllShards(Function<Shard, Future<T>> action) {
        List<Future<T>> results = new ArrayList<>(shards.size());
        for (Shard shard : shards) {
            results.add(action.apply(shard));
        }
        return Future.all(results).map(all -> all.list());
    }

    /** One shard's part of a status, read in one visit to its thread. */
    private record ShardReport(ShardSnapshot snapshot, List<WorkerStatus> workers, WorkerCensus census,
                               SectionDurationSnapshot durations) {
    }
}
