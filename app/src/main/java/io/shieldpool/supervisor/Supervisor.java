package io.shieldpool.supervisor;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.lifecycle.ExitCode;
import io.shieldpool.lifecycle.Lifecycle;
import io.shieldpool.lifecycle.LifecycleState;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.work.Work;
import io.shieldpool.worker.Shard;
import io.shieldpool.worker.ShardListener;
import io.shieldpool.worker.ShardSnapshot;
import io.shieldpool.worker.WorkerStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The manager: owns the lifecycle, the shards and their workers, and the shutdown. Everything it
 * does runs on its own event-loop context: signals and shard news are handed to that context, so
 * its state needs no locks.
 *
 * <p>Shutdown contract: the first SIGTERM or SIGINT closes every shard's stop gate (no section
 * starts after that instant; every section admitted before it is in flight) and waits for the
 * sections in flight to end. {@code shutdown.grace} is a hard cap: when it expires, or on a second
 * SIGINT, each section still running is reported once as abandoned and the report carries
 * {@link ExitCode#DRAIN_CUT}. Only after the report may Vert.x close.
 */
public final class Supervisor extends VerticleBase implements ShardListener {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final ShieldpoolConfig config;
    private final Work work;
    private final SignalSource signals;
    private final Lifecycle lifecycle = new Lifecycle();
    private final Promise<ShutdownReport> finished = Promise.promise();
    private final List<Shard> shards = new ArrayList<>();
    private final List<PoolListener> listeners = new CopyOnWriteArrayList<>();

    private long nextWorkerId = 1;
    private long workerRestarts;
    private boolean shardsDeployed;
    private Drain drain;

    public Supervisor(ShieldpoolConfig config, Work work, SignalSource signals) {
        this.config = config;
        this.work = work;
        this.signals = signals;
    }

    /** Completes once the pool has stopped, with how it ended; Vert.x may close after that. */
    public Future<ShutdownReport> finished() {
        return finished.future();
    }

    /** Adds a listener for lifecycle news; add before deploying to miss nothing. */
    public void addListener(PoolListener listener) {
        listeners.add(listener);
    }

    /**
     * The pool's status, gathered on the supervisor's and the shards' own threads; may be called
     * from any thread. {@code workerLimit} bounds the per-worker list (a million would not help).
     */
    public Future<PoolStatus> status(int workerLimit) {
        Promise<PoolStatus> promise = Promise.promise();
        context.runOnContext(v -> {
            Future<List<ShardSnapshot>> snapshots = forAllShards(shard -> shard.onShard(shard::snapshot));
            Future<List<List<WorkerStatus>>> workers =
                    forAllShards(shard -> shard.onShard(() -> shard.workers(workerLimit)));
            Future.all(snapshots, workers).onComplete(ar -> {
                if (ar.failed()) {
                    promise.fail(ar.cause());
                    return;
                }
                ShardSnapshot sum = ShardSnapshot.EMPTY;
                for (ShardSnapshot s : snapshots.result()) {
                    sum = sum.plus(s);
                }
                ShardSnapshot totals = sum;
                List<WorkerStatus> list = new ArrayList<>();
                for (var perShard : workers.result()) {
                    list.addAll(perShard);
                }
                list.sort(Comparator.comparingLong(WorkerStatus::id));
                if (list.size() > workerLimit) {
                    list = list.subList(0, workerLimit);
                }
                promise.complete(new PoolStatus(lifecycle.state(), config.pool().size(), totals,
                        Optional.ofNullable(drain).map(d -> d.progress(totals.inFlight())), List.copyOf(list)));
            });
        });
        return promise.future();
    }

    /** Workers replaced after their loop died, over the whole run. */
    public long workerRestarts() {
        return workerRestarts;
    }

    public LifecycleState state() {
        return lifecycle.state();
    }

    @Override
    public Future<?> start() {
        signals.attach(name -> context.runOnContext(v -> onSignal(name)));
        int shardCount = config.pool().eventLoops();
        List<Future<String>> deployments = new ArrayList<>();
        for (int i = 0; i < shardCount; i++) {
            Shard shard = new Shard(i, shardCount, work, config.backoff(), this);
            shards.add(shard);
            deployments.add(vertx.deployVerticle(shard));
        }
        return Future.all(deployments).compose(v -> {
            shardsDeployed = true;
            if (lifecycle.isStopping()) {
                // A signal arrived during start-up: no worker was started, nothing is in flight.
                return closeGatesAndWait();
            }
            return startWorkers(config.pool().size()).map(workers -> {
                if (lifecycle.isStopping()) {
                    return null; // a signal came while the workers were starting; the drain has them
                }
                lifecycle.goTo(LifecycleState.RUNNING);
                log.atInfo().addKeyValue("event", "ready").addKeyValue("workers", workers)
                        .log("pool running: {} workers on {} event loops, work {}", workers, shards.size(), work.type());
                listeners.forEach(l -> l.ready(workers));
                return null;
            });
        });
    }

    private Future<Integer> startWorkers(int count) {
        List<Future<Integer>> started = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            // Spread evenly: shard i takes every shards.size()-th worker.
            int share = count / shards.size() + (i < count % shards.size() ? 1 : 0);
            if (share == 0) {
                continue;
            }
            long firstId = nextWorkerId;
            nextWorkerId += share;
            long[] ids = {firstId};
            Shard shard = shards.get(i);
            started.add(shard.onShard(() -> shard.addWorkers(share, () -> ids[0]++)));
        }
        return Future.all(started).map(v -> count);
    }

    // ---- signals ----

    private void onSignal(String name) {
        switch (name) {
            case "TERM", "INT" -> onStopSignal(name);
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

    // ---- the drain ----

    private void beginDrain(String signal) {
        Duration grace = config.shutdown().grace();
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
            long replacementId = nextWorkerId++;
            shard.onShard(() -> shard.addWorkers(1, () -> replacementId));
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
            finish(ExitCode.DRAIN_CUT, reason);
        });
    }

    private void finish(ExitCode exitCode, String reason) {
        if (!lifecycle.goTo(LifecycleState.STOPPED)) {
            return;
        }
        long drainMillis = (System.nanoTime() - drain.startNanos) / 1_000_000;
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
                    .addKeyValue("failed", totals.failed()).addKeyValue("abandoned", totals.abandoned())
                    .addKeyValue("drain_ms", drainMillis).addKeyValue("exit_code", exitCode.code)
                    .log("stopped ({}): {} completed, {} failed, {} abandoned; drain took {} ms; exit code {}",
                            reason, totals.completed(), totals.failed(), totals.abandoned(), drainMillis, exitCode.code);
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

    /** Bookkeeping of one drain; touched only on the supervisor's context. */
    private static final class Drain {
        final String signal;
        final long startNanos;
        final Duration grace;
        boolean gatesClosed;
        private final java.util.BitSet drainedShards = new java.util.BitSet();

        Drain(String signal, long startNanos, Duration grace) {
            this.signal = signal;
            this.startNanos = startNanos;
            this.grace = grace;
        }

        PoolStatus.DrainProgress progress(long sectionsLeft) {
            long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
            return new PoolStatus.DrainProgress(signal, sectionsLeft, elapsedMs,
                    Math.max(0, grace.toMillis() - elapsedMs));
        }

        void shardDrained(int index) {
            drainedShards.set(index);
        }

        boolean allDrained(int shardCount) {
            return drainedShards.cardinality() == shardCount;
        }
    }
}
