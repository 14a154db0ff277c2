package io.shieldpool.pool;

import io.shieldpool.view.SectionDurationSnapshot;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerCensus;
import io.shieldpool.view.WorkerState;
import io.shieldpool.view.WorkerStatus;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.runtime.JobFeed;
import io.shieldpool.kinds.Continuation;
import io.shieldpool.kinds.Work;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;

/**
 * The workers living on one event loop, and their scheduler. A shard is a verticle only to own an
 * event-loop context; its workers are plain objects, so a million of them cost memory, not
 * threads. Its {@link ShardScheduler} runs ready workers in batches and keeps timed waits in
 * {@link DelayLine}s.
 *
 * <p>Confinement: every method but {@link #onShard} and {@link #index} runs on this shard's
 * event-loop thread, so its fields are plain (no volatile, no lock). The entry points assert it
 * ({@code -ea}: tests and test daemons run with assertions on); {@link Pool} is the only caller
 * from outside, and it always goes through {@link #onShard}.
 */
final class Shard extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(Shard.class);

    private final int index;
    private final ShardListener listener;
    private final StopGate gate = new StopGate();
    private final SectionCounters counters = new SectionCounters();
    private final SectionDurations durations = new SectionDurations();

    private Work work;
    private Backoff backoff;
    /** Where sections take their jobs from; null without a job store (sections loop as ever). */
    private JobFeed jobs;
    /** The event-loop thread this shard is confined to; set in {@link #start}. */
    private Thread home;
    private long nextSectionId;
    private final int sectionIdStride;

    private final Roster roster = new Roster();

    private ShardScheduler scheduler;

    /**
     * @param index      this shard's number, 0-based
     * @param shardCount how many shards the pool has (section ids interleave across them)
     */
    Shard(int index, int shardCount, Work work, ShieldpoolConfig.Backoff backoff, ShardListener listener) {
        this.index = index;
        this.work = work;
        this.backoff = new Backoff(backoff);
        this.listener = listener;
        this.nextSectionId = index + 1;
        this.sectionIdStride = shardCount;
    }

    @Override
    public void init(Vertx vertx, Context context) {
        super.init(vertx, context);
        scheduler = new ShardScheduler(vertx, context);
    }

    @Override
    public Future<?> start() {
        home = Thread.currentThread();
        return Future.succeededFuture();
    }

    /** Whether the caller runs on this shard's thread: what every entry point asserts. */
    boolean onItsThread() {
        return Thread.currentThread() == home;
    }

    int index() {
        return index;
    }

    /**
     * Runs {@code action} on this shard's thread and completes the returned future back on the
     * caller's context, so the supervisor never touches shard state from its own thread.
     */
    <T> Future<T> onShard(Callable<T> action) {
        Context caller = vertx.getOrCreateContext();
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> {
            try {
                T result = action.call();
                caller.runOnContext(x -> promise.complete(result));
            } catch (Throwable failure) {
                caller.runOnContext(x -> promise.fail(failure));
            }
        });
        return promise.future();
    }

    // ---- entry points for the pool: on this shard's thread only (through onShard) ----

    /** Adds and starts workers with the given ids. */
    int addWorkers(int count, LongSupplier ids) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        for (int i = 0; i < count; i++) {
            Worker worker = new Worker(ids.getAsLong(), this);
            roster.add(worker);
            worker.start();
        }
        workersChanged();
        return roster.size();
    }

    /**
     * Brings this shard to {@code target} active workers (workers not retiring). Growing first
     * keeps workers that were retiring, then starts new ones; shrinking retires idle and
     * backing-off workers at once, then the newest busy ones after their current section.
     *
     * @return workers started (positive) or set to retire (negative)
     */
    int resizeTo(int target, LongSupplier ids) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        int active = activeCount();
        if (active < target) {
            int need = target - active;
            for (int i = roster.size() - 1; i >= 0 && need > 0; i--) {
                if (roster.get(i).keep()) {
                    need--;
                }
            }
            addWorkers(need, ids); // tells the feed (workersChanged), the kept workers counted
            return target - active;
        }
        int surplus = active - target;
        // Between sections first: they leave at once, and nothing waits on them.
        for (int i = roster.size() - 1; i >= 0 && surplus > 0; i--) {
            Worker worker = roster.get(i);
            if (!worker.isRetiring() && worker.state() != WorkerState.BUSY) {
                worker.retire();
                surplus--;
            }
        }
        if (surplus > 0) {
            // Then the newest busy workers, after their current section.
            List<Worker> busy = new ArrayList<>();
            for (int i = 0; i < roster.size(); i++) {
                Worker worker = roster.get(i);
                if (!worker.isRetiring() && worker.state() == WorkerState.BUSY) {
                    busy.add(worker);
                }
            }
            busy.sort((a, b) -> Long.compare(b.id, a.id));
            for (int i = 0; i < surplus && i < busy.size(); i++) {
                busy.get(i).retire();
            }
        }
        workersChanged();
        return target - active;
    }

    /** Tells the job feed how many workers it serves now (with none, it claims nothing and gives its buffer back). */
    private void workersChanged() {
        if (jobs != null) {
            jobs.workersChanged(roster.activeCount());
        }
    }

    /** Workers on the roster that are not retiring. */
    int activeCount() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        return roster.activeCount();
    }

    /** Pauses after failed sections that begin from now on. */
    void useBackoff(ShieldpoolConfig.Backoff settings) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        this.backoff = new Backoff(settings);
    }

    /**
     * Closes the stop gate.
     *
     * @return sections in flight at the instant of closing (0: this shard is already drained)
     */
    long closeGate() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        long inFlight = Math.max(gate.close(), 0);
        closeJobs();
        log.atDebug().addKeyValue("event", "gate.closed").addKeyValue("shard", index)
                .addKeyValue("in_flight", inFlight)
                .log("shard {}: stop gate closed with {} section(s) in flight", index, inFlight);
        return inFlight;
    }

    /** Closes the gate and cuts every section still in flight, logging each once. */
    int abandonInFlight() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        gate.close();
        long now = System.nanoTime();
        int cut = 0;
        for (int i = 0; i < roster.size(); i++) {
            if (roster.get(i).abandon(now)) {
                counters.abandoned++;
                cut++;
            }
        }
        closeJobs();
        return cut;
    }

    /** Consistent counts of this shard. */
    ShardSnapshot snapshot() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        return new ShardSnapshot(counters.started, counters.completed, counters.failed, counters.timedOut,
                counters.abandoned, gate.inFlight(), roster.size(), roster.busyCount());
    }

    /** How long this shard's sections took, so far. */
    SectionDurationSnapshot sectionDurations() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        return durations.snapshot();
    }

    /** Every worker of this shard counted by state, and the busy ones by step. */
    WorkerCensus census() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        return roster.census();
    }

    /**
     * The busy worker that has gone longest without progress (its section began or a step ended),
     * or null when none is busy: what the watchdog asks to tell a slow pool from a wedged one.
     */
    WorkerStatus slowestBusyWorker() {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        return roster.slowestBusy(System.nanoTime());
    }

    /** Up to {@code limit} of this shard's workers, as status output shows them. */
    List<WorkerStatus> workers(int limit) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        return roster.statuses(limit, System.nanoTime());
    }

    /** Sections that start from now on use {@code newWork}; sections in flight keep theirs. */
    void useWork(Work newWork) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        this.work = newWork;
    }

    /** Sections take their jobs from {@code feed}; set before the shard is deployed. */
    void useJobs(JobFeed feed) {
        this.jobs = feed;
    }

    private void closeJobs() {
        if (jobs != null) {
            jobs.close(); // stop claiming; unstarted jobs go back; parked workers wake and stop
        }
    }

    // ---- used by workers ----

    /** The shard's job feed, or null without a job store. */
    JobFeed jobs() {
        return jobs;
    }

    /** Admits one section through the stop gate and counts it as started; false once the gate is closed. */
    boolean admit() {
        if (!gate.tryAdmit()) {
            return false;
        }
        counters.started++;
        return true;
    }

    /** Counts an admitted section's end and releases its place at the gate (the last one drains the shard). */
    void sectionEnded(SectionOutcome outcome, long durationNanos) {
        durations.record(durationNanos);
        switch (outcome) {
            case COMPLETED -> counters.completed++;
            case TIMED_OUT -> counters.timedOut++;
            case FAILED -> counters.failed++;
            case ABANDONED -> throw new IllegalArgumentException("an abandoned section has no end");
        }
        if (gate.release()) {
            listener.drained(this);
        }
    }

    Work work() {
        return work;
    }

    boolean stopRequested() {
        return gate.isClosed();
    }

    Backoff backoff() {
        return backoff;
    }

    ShardListener listener() {
        return listener;
    }

    long nextSectionId() {
        long id = nextSectionId;
        nextSectionId += sectionIdStride;
        return id;
    }

    /** Queues a worker to run {@code next} on this shard's next turn. */
    void ready(Worker worker, Continuation next) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        scheduler.ready(worker, next);
    }

    /** Runs {@code next} for {@code worker} after {@code delayNanos}. */
    void later(Worker worker, long delayNanos, Continuation next) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        scheduler.later(worker, delayNanos, next);
    }

    /** Takes a worker that stopped off the roster. */
    void remove(Worker worker) {
        assert onItsThread() : "shard " + index + " entered off its event loop";
        roster.remove(worker);
    }
}
