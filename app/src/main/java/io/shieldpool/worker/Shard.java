package io.shieldpool.worker;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.JobFeed;
import io.shieldpool.work.Continuation;
import io.shieldpool.work.Work;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;

/**
 * The workers living on one event loop, and their scheduler. A shard is a verticle only to own an
 * event-loop context; its workers are plain objects, so a million of them cost memory, not
 * threads. It runs ready workers in batches and keeps timed waits in {@link DelayLine}s, one per
 * distinct delay, behind a single Vert.x timer. Everything but the {@code on...} entry points the
 * supervisor calls through {@link #onShard} runs on this shard's thread.
 */
public final class Shard extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(Shard.class);

    /** Most workers run per turn before yielding the event loop to timers and I/O. */
    private static final int BATCH = 4096;

    private final int index;
    private final ShardListener listener;
    final StopGate gate = new StopGate();
    final SectionCounters counters = new SectionCounters();
    final SectionDurations durations = new SectionDurations();

    private volatile Work work;
    /** Where sections take their jobs from; null without a job store (sections loop as ever). */
    private volatile JobFeed jobs;
    private volatile Backoff backoff;
    private long nextSectionId;
    private final int sectionIdStride;

    private Worker[] roster = new Worker[16];
    private int rosterSize;

    private final ArrayDeque<Worker> readyWorkers = new ArrayDeque<>();
    private boolean turnScheduled;

    private final List<DelayLine> delayLines = new ArrayList<>(4);
    private boolean armed;
    private long armedDeadline;

    /**
     * @param index      this shard's number, 0-based
     * @param shardCount how many shards the pool has (section ids interleave across them)
     */
    public Shard(int index, int shardCount, Work work, ShieldpoolConfig.Backoff backoff, ShardListener listener) {
        this.index = index;
        this.work = work;
        this.backoff = new Backoff(backoff);
        this.listener = listener;
        this.nextSectionId = index + 1;
        this.sectionIdStride = shardCount;
    }

    @Override
    public Future<?> start() {
        return Future.succeededFuture();
    }

    public int index() {
        return index;
    }

    /**
     * Runs {@code action} on this shard's thread and completes the returned future back on the
     * caller's context, so the supervisor never touches shard state from its own thread.
     */
    public <T> Future<T> onShard(Callable<T> action) {
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

    // ---- supervisor entry points (call through onShard / context) ----

    /** Adds and starts workers with the given ids. */
    public int addWorkers(int count, LongSupplier ids) {
        for (int i = 0; i < count; i++) {
            Worker worker = new Worker(ids.getAsLong(), this);
            add(worker);
            worker.start();
        }
        return rosterSize;
    }

    /**
     * Brings this shard to {@code target} active workers (workers not retiring). Growing first
     * keeps workers that were retiring, then starts new ones; shrinking retires idle and
     * backing-off workers at once, then the newest busy ones after their current section.
     *
     * @return workers started (positive) or set to retire (negative)
     */
    public int resizeTo(int target, LongSupplier ids) {
        int active = activeCount();
        if (active < target) {
            int need = target - active;
            for (int i = rosterSize - 1; i >= 0 && need > 0; i--) {
                if (roster[i].keep()) {
                    need--;
                }
            }
            addWorkers(need, ids);
            return target - active;
        }
        int surplus = active - target;
        // Between sections first: they leave at once, and nothing waits on them.
        for (int i = rosterSize - 1; i >= 0 && surplus > 0; i--) {
            Worker worker = roster[i];
            if (!worker.isRetiring() && worker.state() != WorkerState.BUSY) {
                worker.retire();
                surplus--;
            }
        }
        if (surplus > 0) {
            // Then the newest busy workers, after their current section.
            List<Worker> busy = new ArrayList<>();
            for (int i = 0; i < rosterSize; i++) {
                if (!roster[i].isRetiring() && roster[i].state() == WorkerState.BUSY) {
                    busy.add(roster[i]);
                }
            }
            busy.sort((a, b) -> Long.compare(b.id, a.id));
            for (int i = 0; i < surplus && i < busy.size(); i++) {
                busy.get(i).retire();
            }
        }
        return target - active;
    }

    /** Workers on the roster that are not retiring. */
    public int activeCount() {
        int active = 0;
        for (int i = 0; i < rosterSize; i++) {
            if (!roster[i].isRetiring()) {
                active++;
            }
        }
        return active;
    }

    /** Pauses after failed sections that begin from now on. */
    public void useBackoff(ShieldpoolConfig.Backoff settings) {
        this.backoff = new Backoff(settings);
    }

    /**
     * Closes the stop gate.
     *
     * @return sections in flight at the instant of closing (0: this shard is already drained)
     */
    public long closeGate() {
        long inFlight = Math.max(gate.close(), 0);
        closeJobs();
        log.atDebug().addKeyValue("event", "gate.closed").addKeyValue("shard", index)
                .addKeyValue("in_flight", inFlight)
                .log("shard {}: stop gate closed with {} section(s) in flight", index, inFlight);
        return inFlight;
    }

    /** Closes the gate and cuts every section still in flight, logging each once. */
    public int abandonInFlight() {
        gate.close();
        long now = System.nanoTime();
        int cut = 0;
        for (int i = 0; i < rosterSize; i++) {
            if (roster[i].abandon(now)) {
                cut++;
            }
        }
        closeJobs();
        return cut;
    }

    /** Consistent counts of this shard. */
    public ShardSnapshot snapshot() {
        int busy = 0;
        for (int i = 0; i < rosterSize; i++) {
            if (roster[i].state() == WorkerState.BUSY) {
                busy++;
            }
        }
        return new ShardSnapshot(counters.started, counters.completed, counters.failed, counters.timedOut,
                counters.abandoned,
                gate.inFlight(), rosterSize, busy);
    }

    /** How long this shard's sections took, so far. */
    public SectionDurationSnapshot sectionDurations() {
        return durations.snapshot();
    }

    /** Every worker of this shard counted by state, and the busy ones by step. */
    public WorkerCensus census() {
        WorkerState[] states = WorkerState.values();
        int[] byState = new int[states.length];
        long[] busyAtStep = new long[1];
        for (int i = 0; i < rosterSize; i++) {
            Worker worker = roster[i];
            WorkerState state = worker.state();
            byState[state.ordinal()]++;
            if (state == WorkerState.BUSY) {
                int step = Math.min(worker.stepsDone(), WorkerCensus.STEP_BINS - 1);
                if (step >= busyAtStep.length) {
                    busyAtStep = Arrays.copyOf(busyAtStep, step + 1);
                }
                busyAtStep[step]++;
            }
        }
        var counts = WorkerCensus.zeros();
        for (WorkerState state : states) {
            counts.put(state, byState[state.ordinal()]);
        }
        return new WorkerCensus(counts, busyAtStep);
    }

    /**
     * The busy worker that has gone longest without progress (its section began or a step ended),
     * or null when none is busy: what the watchdog asks to tell a slow pool from a wedged one.
     */
    public WorkerStatus slowestBusyWorker() {
        Worker slowest = null;
        for (int i = 0; i < rosterSize; i++) {
            Worker worker = roster[i];
            if (worker.state() == WorkerState.BUSY
                    && (slowest == null || worker.lastProgressNanos() - slowest.lastProgressNanos() < 0)) {
                slowest = worker;
            }
        }
        return slowest == null ? null : slowest.status(System.nanoTime());
    }

    /** Up to {@code limit} of this shard's workers, as status output shows them. */
    public List<WorkerStatus> workers(int limit) {
        long now = System.nanoTime();
        int n = Math.min(limit, rosterSize);
        List<WorkerStatus> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(roster[i].status(now));
        }
        return list;
    }

    /** Sections that start from now on use {@code newWork}; sections in flight keep theirs. */
    public void useWork(Work newWork) {
        this.work = newWork;
    }

    /** Sections take their jobs from {@code feed}; set before the workers start. */
    public void useJobs(JobFeed feed) {
        this.jobs = feed;
    }

    private void closeJobs() {
        JobFeed feed = jobs;
        if (feed != null) {
            feed.close(); // stop claiming; unstarted jobs go back; parked workers wake and stop
        }
    }

    // ---- used by workers ----

    JobFeed jobs() {
        return jobs;
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
        worker.parked = next;
        readyWorkers.add(worker);
        if (!turnScheduled) {
            turnScheduled = true;
            context.runOnContext(v -> runTurn());
        }
    }

    /** Runs {@code next} for {@code worker} after {@code delayNanos}. */
    void later(Worker worker, long delayNanos, Continuation next) {
        worker.parked = next;
        long now = System.nanoTime();
        DelayLine line = lineFor(delayNanos);
        line.add(worker, now);
        long deadline = now + delayNanos;
        if (!armed || deadline - armedDeadline < 0) {
            arm(deadline, now);
        }
    }

    private void runTurn() {
        turnScheduled = false;
        // why: only the workers that were ready when the turn began; those that yield again wait
        // for the next turn, so timers and I/O on this event loop are never starved.
        int n = Math.min(readyWorkers.size(), BATCH);
        try {
            for (int i = 0; i < n; i++) {
                readyWorkers.poll().resumeParked();
            }
        } finally {
            // why: even if a bug escaped a worker, the others queued behind it must get their turn.
            if (!readyWorkers.isEmpty() && !turnScheduled) {
                turnScheduled = true;
                context.runOnContext(v -> runTurn());
            }
        }
    }

    private DelayLine lineFor(long delayNanos) {
        for (int i = 0; i < delayLines.size(); i++) {
            DelayLine line = delayLines.get(i);
            if (line.delayNanos == delayNanos) {
                return line;
            }
        }
        DelayLine line = new DelayLine(delayNanos);
        delayLines.add(line);
        return line;
    }

    private void arm(long deadline, long now) {
        armed = true;
        armedDeadline = deadline;
        long delayMs = Math.max(1, (deadline - now + 999_999) / 1_000_000);
        vertx.setTimer(delayMs, id -> onTimer(deadline));
    }

    private void onTimer(long firedFor) {
        if (armed && firedFor == armedDeadline) {
            armed = false;
        }
        long now = System.nanoTime();
        try {
            for (int i = 0; i < delayLines.size(); i++) {
                DelayLine line = delayLines.get(i);
                Worker due;
                while ((due = line.pollDue(now)) != null) {
                    due.resumeParked();
                }
            }
        } finally {
            armForEarliest(now);
        }
    }

    private void armForEarliest(long now) {
        boolean any = false;
        long next = 0;
        for (int i = 0; i < delayLines.size(); i++) {
            DelayLine line = delayLines.get(i);
            if (!line.isEmpty() && (!any || line.nextDeadline() - next < 0)) {
                next = line.nextDeadline();
                any = true;
            }
        }
        if (any && (!armed || next - armedDeadline < 0)) {
            arm(next, now);
        }
    }

    // ---- roster: all live workers, O(1) add and remove ----

    private void add(Worker worker) {
        if (rosterSize == roster.length) {
            roster = Arrays.copyOf(roster, roster.length << 1);
        }
        worker.slot = rosterSize;
        roster[rosterSize++] = worker;
    }

    void remove(Worker worker) {
        int slot = worker.slot;
        if (slot < 0 || slot >= rosterSize || roster[slot] != worker) {
            return;
        }
        Worker last = roster[--rosterSize];
        roster[slot] = last;
        last.slot = slot;
        roster[rosterSize] = null;
        worker.slot = -1;
    }
}
