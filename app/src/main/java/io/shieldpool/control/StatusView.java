package io.shieldpool.control;

import io.shieldpool.pool.Pool;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.PoolView;
import io.shieldpool.view.SectionDurationSnapshot;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerCensus;
import io.shieldpool.view.WorkerStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The supervisor's {@link PoolView}: every question hops to the supervisor's context first (and
 * from there to the shards), so it may be asked from any thread. Before the supervisor is deployed
 * nothing can be stuck yet: the answers are immediate, with the state and nothing counted.
 */
final class StatusView implements PoolView {

    private final Supervisor supervisor;
    /** The supervisor's context once deployed; volatile so other threads (the admin server) may ask for it. */
    private volatile Context home;

    StatusView(Supervisor supervisor) {
        this.supervisor = supervisor;
    }

    void attach(Context context) {
        home = context;
    }

    @Override
    public LifecycleState state() {
        return supervisor.state();
    }

    @Override
    public Future<Void> ping() {
        return onHome(pool -> Future.<Void>succeededFuture(), Future::succeededFuture);
    }

    @Override
    public Future<PoolStatus> status(int workerLimit) {
        return onHome(pool -> pool.sample(workerLimit).map(sample -> {
            ShardSnapshot totals = sample.totals();
            Drain drain = supervisor.drain();
            return status(totals, drain.begun() ? Optional.of(drain.progress(totals.inFlight())) : Optional.empty(),
                    sample.workers(), sample.census(), sample.durations());
        }), this::notStarted);
    }

    @Override
    public Future<Optional<WorkerStatus>> slowestBusyWorker() {
        return onHome(Pool::slowestBusyWorker, () -> Future.succeededFuture(Optional.empty()));
    }

    @Override
    public Duration stallAfter() {
        return supervisor.currentConfig().systemd().stallAfter();
    }

    /**
     * Runs {@code question} on the supervisor's context with the deployed pool; {@code before}
     * answers when the supervisor is not deployed, or the pool not yet up.
     */
    private <T> Future<T> onHome(Function<Pool, Future<T>> question, Supplier<Future<T>> before) {
        Context context = home;
        if (context == null) {
            return before.get();
        }
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> {
            Pool pool = supervisor.deployedPool();
            if (pool == null) {
                before.get().onComplete(promise);
            } else {
                question.apply(pool).onComplete(promise);
            }
        });
        return promise.future();
    }

    private Future<PoolStatus> notStarted() {
        return Future.succeededFuture(status(ShardSnapshot.EMPTY, Optional.empty(), List.of(),
                WorkerCensus.EMPTY, SectionDurationSnapshot.EMPTY));
    }

    private PoolStatus status(ShardSnapshot totals, Optional<PoolStatus.DrainProgress> drain, List<WorkerStatus> workers,
                              WorkerCensus census, SectionDurationSnapshot durations) {
        return new PoolStatus(supervisor.state(), supervisor.desiredSize(), totals, drain, workers,
                supervisor.configVersion(), supervisor.currentConfig().work().type(), supervisor.workerRestarts(),
                census, durations);
    }
}
