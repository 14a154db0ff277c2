package io.shieldpool.pool;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.Work;
import io.shieldpool.view.SectionDurationSnapshot;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerCensus;
import io.shieldpool.view.WorkerStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The worker pool: one {@link Shard} per event loop, each with its workers and its stop gate. The
 * only way into the pool from outside this package. Every method must be called on the owner's
 * context (the one that called {@link #deploy}); each hops to the shards' threads and completes
 * back on the owner's context, so neither side ever touches the other's state.
 *
 * <p>Stop contract: {@link #closeGates} closes every shard's gate (no section starts after that
 * instant); once the last section admitted before it has ended, {@link Events#drained} is called.
 * {@link #abandonInFlight} cuts what is still running, logging each cut section once.
 */
public final class Pool {

    /** What the pool tells its owner, always on the owner's context. */
    public interface Events {

        /** Every gate is closed and the last section in flight has ended. Called once. */
        void drained();

        /**
         * A worker's loop died (an Error escaped its work).
         *
         * @return whether to start a replacement on its shard
         */
        boolean workerDied(long workerId, Throwable cause);
    }

    /** The pool at one moment; each shard read in one visit to its thread, so its parts agree. */
    public record Sample(ShardSnapshot totals, List<WorkerStatus> workers, WorkerCensus census,
                         SectionDurationSnapshot durations) {
    }

    private final Vertx vertx;
    private final Events events;
    private final List<Shard> shards = new ArrayList<>();
    private final BitSet drainedShards = new BitSet();
    /** Worker ids, unique over the run; taken on the shards' threads. */
    private final AtomicLong nextWorkerId = new AtomicLong(1);
    private Context owner;
    private boolean gatesClosed;
    private boolean drainReported;

    /**
     * @param shardCount event loops to spread the workers over, >= 1
     * @param work       what sections do (until {@link #useWork})
     * @param backoff    pauses after failed sections (until {@link #useBackoff})
     */
    public Pool(Vertx vertx, int shardCount, Work work, ShieldpoolConfig.Backoff backoff, Events events) {
        this.vertx = vertx;
        this.events = events;
        ShardListener listener = new ShardListener() {
            @Override
            public void drained(Shard shard) {
                owner.runOnContext(v -> shardDrained(shard.index()));
            }

            @Override
            public void workerDied(Shard shard, long workerId, Throwable cause) {
                owner.runOnContext(v -> {
                    if (events.workerDied(workerId, cause)) {
                        onEach(shard, () -> shard.addWorkers(1, nextWorkerId::getAndIncrement));
                    }
                });
            }
        };
        for (int i = 0; i < shardCount; i++) {
            shards.add(new Shard(i, shardCount, work, backoff, listener));
        }
    }

    /** Deploys the shards, with no worker yet; the calling context becomes the pool's owner. */
    /** Sections take their jobs from the feed {@code feeds} gives for each shard index; call before {@link #deploy}. */
    public void useJobs(java.util.function.IntFunction<io.shieldpool.jobs.runtime.JobFeed> feeds) {
        for (int i = 0; i < shards.size(); i++) {
            shards.get(i).useJobs(feeds.apply(i));
        }
    }

    public Future<Void> deploy() {
        owner = vertx.getOrCreateContext();
        List<Future<String>> deployments = new ArrayList<>();
        for (Shard shard : shards) {
            deployments.add(vertx.deployVerticle(shard));
        }
        return Future.all(deployments).mapEmpty();
    }

    public int shardCount() {
        return shards.size();
    }

    /** Brings the pool to {@code target} workers, spread evenly: shard i runs target/n, the first target%n one more. */
    public Future<Void> resize(int target) {
        assert onOwner();
        List<Future<Integer>> results = new ArrayList<>();
        for (Shard shard : shards) {
            int share = target / shards.size() + (shard.index() < target % shards.size() ? 1 : 0);
            results.add(onEach(shard, () -> shard.resizeTo(share, nextWorkerId::getAndIncrement)));
        }
        return Future.all(results).mapEmpty();
    }

    /**
     * Closes every stop gate.
     *
     * @return the sections in flight at the instant of closing; {@link Events#drained} follows once they have ended
     */
    public Future<Long> closeGates() {
        assert onOwner();
        return forAll(shard -> onEach(shard, shard::closeGate)).map(inFlightPerShard -> {
            long inFlight = 0;
            for (int i = 0; i < shards.size(); i++) {
                long n = inFlightPerShard.get(i);
                inFlight += n;
                if (n == 0) {
                    drainedShards.set(i);
                }
            }
            gatesClosed = true;
            // why: reported after the caller has seen the in-flight count, never before.
            owner.runOnContext(v -> reportIfDrained());
            return inFlight;
        });
    }

    /** Closes the gates and cuts every section still in flight; the number cut. */
    public Future<Integer> abandonInFlight() {
        assert onOwner();
        return forAll(shard -> onEach(shard, shard::abandonInFlight))
                .map(all -> all.stream().mapToInt(Integer::intValue).sum());
    }

    /** The pool's counts over the whole run. */
    public Future<ShardSnapshot> totals() {
        assert onOwner();
        return forAll(shard -> onEach(shard, shard::snapshot)).map(all -> {
            ShardSnapshot sum = ShardSnapshot.EMPTY;
            for (ShardSnapshot s : all) {
                sum = sum.plus(s);
            }
            return sum;
        });
    }

    /** Counts, census, durations and the first {@code workerLimit} workers by id. */
    public Future<Sample> sample(int workerLimit) {
        assert onOwner();
        return forAll(shard -> onEach(shard, () -> new Sample(shard.snapshot(), shard.workers(workerLimit),
                shard.census(), shard.sectionDurations()))).map(all -> {
            ShardSnapshot totals = ShardSnapshot.EMPTY;
            WorkerCensus census = WorkerCensus.EMPTY;
            SectionDurationSnapshot durations = SectionDurationSnapshot.EMPTY;
            List<WorkerStatus> workers = new ArrayList<>();
            for (Sample part : all) {
                totals = totals.plus(part.totals());
                census = census.plus(part.census());
                durations = durations.plus(part.durations());
                workers.addAll(part.workers());
            }
            workers.sort(Comparator.comparingLong(WorkerStatus::id));
            return new Sample(totals, List.copyOf(workers.size() > workerLimit ? workers.subList(0, workerLimit) : workers),
                    census, durations);
        });
    }

    /** The busy worker that has gone longest without progress, if any is busy. */
    public Future<Optional<WorkerStatus>> slowestBusyWorker() {
        assert onOwner();
        return forAll(shard -> onEach(shard, () -> Optional.ofNullable(shard.slowestBusyWorker())))
                .map(all -> all.stream().flatMap(Optional::stream)
                        .max(Comparator.comparingLong(WorkerStatus::sinceProgressMs)));
    }

    /** Sections that start from now on use {@code work}; sections in flight keep theirs. */
    public void useWork(Work work) {
        assert onOwner();
        shards.forEach(shard -> onEach(shard, () -> {
            shard.useWork(work);
            return null;
        }));
    }

    /** Failed sections that end from now on pause by {@code backoff}. */
    public void useBackoff(ShieldpoolConfig.Backoff backoff) {
        assert onOwner();
        shards.forEach(shard -> onEach(shard, () -> {
            shard.useBackoff(backoff);
            return null;
        }));
    }

    private void shardDrained(int index) {
        drainedShards.set(index);
        reportIfDrained();
    }

    private void reportIfDrained() {
        if (gatesClosed && !drainReported && drainedShards.cardinality() == shards.size()) {
            drainReported = true;
            events.drained();
        }
    }

    private boolean onOwner() {
        return owner == null || Vertx.currentContext() == owner;
    }

    private static <T> Future<T> onEach(Shard shard, Callable<T> action) {
        return shard.onShard(action);
    }

    private <T> Future<List<T>> forAll(Function<Shard, Future<T>> action) {
        List<Future<T>> results = new ArrayList<>(shards.size());
        for (Shard shard : shards) {
            results.add(action.apply(shard));
        }
        return Future.all(results).map(all -> all.list());
    }
}
