package io.shieldpool.jobs.runtime;

import io.shieldpool.jobs.Job;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One shard's supply of jobs: a local buffer filled by batched claims, so a worker that ends a
 * section takes its next job from memory and never waits on the store while jobs are queued. A
 * worker that finds the buffer empty parks here, idle (not busy), until a claim brings jobs or the
 * feed closes. A claim that comes back short means the queue is drained: the feed then claims
 * again on a wake-up from the store (an enqueue) or after {@code jobs.poll-interval} (jobs whose
 * run-at comes due), whichever is first. A reload that shortens the poll interval brings a
 * pending poll forward ({@link #pollIntervalChanged}).
 *
 * <p>Confined to its shard's event loop: every method but {@link #wake} runs there, and the
 * store's futures complete there (they complete on the calling context).
 */
public final class JobFeed {

    private static final Logger log = LoggerFactory.getLogger(JobFeed.class);

    private final DurableJobs jobs;
    private final int shard;
    private final ArrayDeque<Job> buffer = new ArrayDeque<>();
    /** The claim epoch ({@link DurableJobs#claimEpoch}) the buffered jobs were claimed in. */
    private long bufferEpoch;
    private final List<Runnable> waiting = new ArrayList<>();
    /** Workers parked with a job in the buffer and no slot of the queue's concurrency limit ({@link SlotPermits}). */
    private final List<Runnable> waitingForSlot = new ArrayList<>();
    /** The daemon's slots of a queue with a cluster-wide concurrency and no rate; null otherwise. */
    private final SlotPermits permits;
    /** Jobs of this shard taken with a slot whose section has not ended (or that were not given back). */
    private int withSlot;
    private final AtomicBoolean wakePending = new AtomicBoolean();
    /** jobs.claim-batch = auto on a shared store: the buffer's target follows demand. */
    private final ClaimSizer sizer = new ClaimSizer();
    /** Acks of sections ended in this turn of the event loop, sent together at its end ({@link #flushAcks}). */
    private List<Job> pendingAcks = new ArrayList<>();
    private Context context;
    private boolean claiming;
    /** The last claim came back short: claim again only on a wake-up or the poll timer. */
    private boolean starved;
    private boolean closed;
    /** The shard's active workers (not retiring), as it last said ({@link #workersChanged}); -1 until it did. */
    private int workers = -1;
    /** Cancels the pending poll; null when none is pending. */
    private Runnable cancelPoll;
    /** When the pending poll fires ({@link io.shieldpool.time.Ticker#nanoTime} reading). */
    private long pollDueNanos;
    /** Limited queue: workers a claim just woke with no job for them; they park again soon. */
    private int idleAfterWake;
    /** Limited queue: the next wait after a short claim (doubles while claims keep coming back short). */
    private long slotRetryMillis = -1;
    /** On a limited queue: how often, at most, a feed with idle workers looks for a free slot. */
    private static final Duration SLOT_LOOK = Duration.ofMillis(100);
    /** While this node's claims are not safe ({@link DurableJobs#claimsSafe}): how often to look whether they are again. */
    private static final Duration STALE_RECHECK = Duration.ofMillis(100);

    JobFeed(DurableJobs jobs, int shard) {
        this.jobs = jobs;
        this.shard = shard;
        this.permits = jobs.permits();
    }

    /**
     * The next claimed job, or null when the buffer is empty or, on a queue whose concurrency is
     * held by slots, when this daemon has no free slot (then {@link #waitFor}). Starts a claim
     * when the buffer runs low. A job taken on such a queue holds a slot until its section ends
     * ({@link #completed}, {@link #failed}, {@link #abandoned}) or it is given back.
     */
    public Job take() {
        bind();
        if (!buffer.isEmpty() && (!jobs.claimsSafe() || bufferEpoch != jobs.claimEpoch())) {
            // why: cut off from the store for about its ttl, this node may already count as dead
            // elsewhere, its jobs rescued and running on another node: a buffered job started now,
            // or after the heartbeat lands again (a later claim epoch), could run on two nodes at
            // once. Given back instead (fenced: a rescued one is left as the rescue made it); the
            // workers wait for the next claim, made once a heartbeat has landed.
            giveBackBuffer();
            if (!jobs.claimsSafe()) {
                awaitFreshClaims();
            }
            return null;
        }
        if (permits != null && !buffer.isEmpty()) {
            if (!permits.tryAcquire()) {
                return null;
            }
            withSlot++;
        }
        Job job = buffer.poll();
        bufferShrank();
        refillIfLow();
        return job;
    }

    /**
     * Parks a worker until jobs arrive: {@code wake} runs once, on this thread, when a claim
     * brought jobs (the worker then calls {@link #take} again) or the feed closed.
     *
     * @return false when the feed is closed (a stop began): the worker should end its loop
     */
    public boolean waitFor(Runnable wake) {
        bind();
        if (closed) {
            return false;
        }
        if (permits != null && !buffer.isEmpty()) {
            // why apart: this worker has a job to run and waits for a slot, not for a claim
            waitingForSlot.add(wake);
            slotDemandChanged();
            return true;
        }
        waiting.add(wake);
        refillIfLow();
        return true;
    }

    /** Gives back a job taken but not started (the stop gate closed in between). */
    public void giveBack(Job job) {
        slotReleased();
        freesSlot(jobs.release(List.of(job), false));
    }

    /** A job taken with a slot left the worker: the slot is free for this daemon's next section (SlotPermits decides). */
    private void slotReleased() {
        if (permits != null) {
            withSlot--;
            permits.release();
        }
    }

    /** Tells the permits how many of this feed's workers have a job and wait for a slot. This thread. */
    private void slotDemandChanged() {
        if (permits != null) {
            permits.demand(this, Math.min(waitingForSlot.size(), buffer.size()));
        }
    }

    /**
     * The buffer lost jobs: fewer of the workers waiting for a slot have one to run; with none
     * left, they wait for a claim instead (woken, they park again as idle workers, whom the next
     * claim counts).
     */
    private void bufferShrank() {
        if (permits == null || waitingForSlot.isEmpty()) {
            return;
        }
        if (buffer.isEmpty()) {
            slotsAvailable();
        } else {
            slotDemandChanged();
        }
    }

    /** This thread: the daemon may hold a free slot: the workers waiting for one try again. */
    void slotsAvailable() {
        if (waitingForSlot.isEmpty()) {
            return;
        }
        List<Runnable> woken = new ArrayList<>(waitingForSlot);
        waitingForSlot.clear();
        slotDemandChanged();
        woken.forEach(this::wakeOne);
    }

    /**
     * The section of {@code job} completed: ack it. On PostgreSQL, unless the queue has a rate and a
     * concurrency, the acks of the sections that ended in one turn of this event loop go as one request.
     */
    public void completed(Job job) {
        sizer.sectionEnded();
        slotReleased();
        if (jobs.groupsAcks()) {
            // why: the sections of one turn of this event loop end together; their acks go to the
            // store as one request at the end of the turn (one thread hop each way, not one per
            // job). A close flushes what is queued first (DurableJobs.close, via barrier).
            if (pendingAcks.isEmpty()) {
                bind();
                context.runOnContext(v -> flushAcks());
            }
            pendingAcks.add(job);
            return;
        }
        freesSlot(jobs.complete(job));
    }

    /** Sends the acks queued by {@link #completed} in this turn, as one request. This thread. */
    private void flushAcks() {
        if (pendingAcks.isEmpty()) {
            return;
        }
        List<Job> acks = pendingAcks;
        pendingAcks = new ArrayList<>(acks.size());
        Future<?> settled = jobs.completeAll(acks);
        if (jobs.limited()) {
            // a rate-only queue (its acks grouped): the feed claims again once they landed, as after one ack
            settled.onComplete(ar -> refillIfLow());
        }
    }

    /** The section of {@code job} failed or timed out: retry later, or dead after its last attempt. */
    public void failed(Job job, Throwable cause) {
        sizer.sectionEnded();
        slotReleased();
        freesSlot(jobs.fail(job, cause));
    }

    /** The section of {@code job} was cut at the grace cap: released now, the attempt counted. */
    public void abandoned(Job job) {
        sizer.sectionEnded();
        slotReleased();
        freesSlot(jobs.release(List.of(job), true));
    }

    /**
     * With a limited queue: once {@code settled} (an ack, failure or release) has landed, the slot
     * its job held is free, and every feed of this daemon waiting for one claims again at once
     * instead of after its retry timer.
     */
    private void freesSlot(Future<?> settled) {
        if (jobs.slotLimited()) {
            // why starved at once: the worker that ran the job parks next, and its claim would
            // race the ack (counting the slot as taken, it would wait a retry for nothing); the
            // freed slot is looked for once the ack has landed (slotFreed).
            starved = true;
            settled.onComplete(ar -> jobs.slotFreed());
        } else if (jobs.limited()) {
            settled.onComplete(ar -> refillIfLow());
        }
    }

    /**
     * This feed's thread: a slot of this daemon was freed (see {@link #freesSlot}): claim at
     * once. why not after a delay (as before): whoever looks first no longer wins; a limited
     * claim takes a free slot only if no other live claimant has waited longer for it (the
     * store's waits), so the node that freed it gets it back at once only when nobody waits.
     */
    void slotFreed() {
        if (!closed) {
            starved = false;
            refillIfLow();
        }
    }

    /**
     * Stops claiming, at once: the buffer goes back to ready uncounted, and the parked workers are
     * woken to find the feed closed. Called when the shard's stop gate closes. Idempotent.
     */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cancelPoll != null) {
            cancelPoll.run();
            cancelPoll = null;
        }
        List<Job> unstarted = new ArrayList<>(buffer);
        buffer.clear();
        if (!unstarted.isEmpty()) {
            jobs.release(unstarted, false);
        }
        slotsAvailable();
        wakeWaiting();
    }

    /**
     * Completes once this feed's thread has run everything queued to it before this call (the
     * callbacks of store requests already answered) and has sent the acks it had queued. Any thread.
     */
    Future<Void> barrier() {
        Context home = context;
        if (home == null) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        home.runOnContext(v -> {
            flushAcks();
            done.complete();
        });
        return done.future();
    }

    /**
     * The shard now has {@code active} workers (not retiring). With none (pool.size = 0, or fewer
     * workers than shards), the feed claims nothing and gives its buffer back, uncounted. why: a
     * buffered job is claimed by this daemon and heartbeated with it; with no worker to start it,
     * no node ran it until this one was resized up or stopped (a node parked at pool.size = 0
     * held up to a claim cap of jobs per shard). This thread.
     */
    public void workersChanged(int active) {
        bind();
        workers = active;
        if (active == 0) {
            giveBackBuffer();
        }
    }

    /** Returns every buffered job to ready, uncounted. This thread. */
    private void giveBackBuffer() {
        if (buffer.isEmpty()) {
            return;
        }
        List<Job> unstarted = new ArrayList<>(buffer);
        buffer.clear();
        bufferShrank();
        freesSlot(jobs.release(unstarted, false));
    }

    /** Jobs claimed and not yet started, held in the buffer. */
    public int buffered() {
        return buffer.size();
    }

    /** Workers parked waiting for a job. */
    public int waiting() {
        return waiting.size();
    }

    /**
     * A hint that jobs may be claimable (an enqueue, a commit by another process). Any thread;
     * coalesced: a burst of wake-ups makes one visit to the shard.
     */
    void wake() {
        Context home = context;
        if (home != null && wakePending.compareAndSet(false, true)) {
            home.runOnContext(v -> {
                wakePending.set(false);
                if (starved) {
                    starved = false;
                    refillIfLow();
                }
            });
        }
    }

    private void bind() {
        if (context == null) {
            context = Vertx.currentContext();
        }
    }

    private void refillIfLow() {
        if (closed || claiming || starved || workers == 0) {
            return;
        }
        if (!jobs.claimsSafe()) {
            awaitFreshClaims();
            return;
        }
        int limit;
        if (jobs.limited()) {
            // why no lookahead: a claimed job holds a cluster-wide slot until its ack, so a job
            // buffered here would be a slot no worker of any node uses; claim for idle workers
            // only.
            limit = Math.max(waiting.size() - buffer.size(), idleAfterWake);
            idleAfterWake = 0;
        } else if (jobs.claimsFollowDemand()) {
            // why a quarter of the last target: as below, each claim tops the buffer up by about
            // three quarters of it, so its jobs share one commit.
            if (buffer.size() > sizer.lastTarget() / 4) {
                return;
            }
            // why the sections running with a slot: on a queue whose concurrency is held by slots,
            // each such section's end passes its slot to the next job in the buffer; one job
            // queued behind each keeps the slot busy through a claim's round trip, however late
            // the answer comes under load (the rate measured covers only two of them).
            int ready = waiting.size() + (permits == null ? 0 : withSlot);
            limit = sizer.target(jobs.timers().nanoTime(), ready, jobs.claimCap()) - buffer.size();
        } else {
            int target = jobs.claimBatch();
            // why a quarter, not half: each claim then tops the buffer up by three quarters of
            // the batch, not half; with short sections every claim waits for the store's next
            // commit anyway, and the jobs a commit claims and acks share its fsync (J3: a half
            // threshold made claims of ~16 jobs, two commits for what one could do).
            if (buffer.size() > target / 4) {
                return;
            }
            limit = target - buffer.size();
        }
        if (limit <= 0) {
            return;
        }
        claiming = true;
        long begun = System.nanoTime();
        long epoch = jobs.claimEpoch();
        jobs.claim(limit, shard).onComplete(ar -> {
            claiming = false;
            long roundTrip = System.nanoTime() - begun;
            jobs.counters().claimNanos.add(roundTrip);
            jobs.counters().claims.increment();
            if (ar.failed()) {
                jobs.claimFailed(shard, ar.cause());
                starve();
                return;
            }
            sizer.claimAnswered(roundTrip);
            List<Job> got = ar.result();
            if (closed) {
                jobs.release(got, false);
                return;
            }
            if (workers == 0) {
                // the shard lost its last worker while the claim was out (workersChanged)
                freesSlot(jobs.release(got, false));
                return;
            }
            if (epoch != jobs.claimEpoch()) {
                // a spell without safe claims came while the claim was out: its jobs may be rescued already
                freesSlot(jobs.release(got, false));
                refillIfLow();
                return;
            }
            if (!buffer.isEmpty() && bufferEpoch != epoch) {
                giveBackBuffer();
            }
            bufferEpoch = epoch;
            // why: the workers woken below resume later; those the claim brought nothing for will
            // park again, so the next claim (at the end of this handler) asks for them already.
            int idle = Math.max(0, waiting.size() - buffer.size() - got.size());
            buffer.addAll(got);
            slotDemandChanged();
            if (!got.isEmpty() && !jobs.slotLimited()) {
                // why not with a concurrency limit: its waiting claims only take turns at the
                // queue's lock; its place in line is its wait (the store's), not how often it looks.
                slotRetryMillis = jobs.firstRetry().toMillis();
            }
            if (got.size() < limit) {
                starve();
            }
            if (got.isEmpty() && !waiting.isEmpty()) {
                // why: the queue is empty for now, yet another shard may hold claimed jobs its busy
                // workers cannot start soon (long sections): idle workers here take them over.
                jobs.rebalanceTo(this, waiting.size());
            }
            wakeWaiting();
            idleAfterWake = jobs.limited() && !starved ? idle : 0;
            refillIfLow();
        });
    }

    /**
     * Gives up to {@code most} buffered (claimed, not started) jobs to another shard whose workers
     * are idle; they stay claimed by this daemon, only the shard changes. This thread.
     */
    List<Job> shed(int most) {
        if (!buffer.isEmpty() && bufferEpoch != jobs.claimEpoch()) {
            giveBackBuffer();
            return List.of();
        }
        List<Job> shed = new ArrayList<>();
        while (shed.size() < most && !buffer.isEmpty() && waiting.isEmpty()) {
            shed.add(buffer.pollLast());
        }
        bufferShrank();
        return shed;
    }

    /** Takes jobs shed by another shard, claimed in claim epoch {@code epoch} or later. This thread. */
    void accept(List<Job> given, long epoch) {
        if (given.isEmpty()) {
            return;
        }
        if (closed || epoch != jobs.claimEpoch()) {
            jobs.release(given, false);
            return;
        }
        if (!buffer.isEmpty() && bufferEpoch != epoch) {
            giveBackBuffer();
        }
        bufferEpoch = epoch;
        buffer.addAll(given);
        slotDemandChanged();
        wakeWaiting();
    }

    /** Runs {@code action} on this feed's thread (at once when already there). Any thread. */
    void onHome(Runnable action) {
        Context home = context;
        if (home == null) {
            return; // never used by a worker yet: it holds nothing
        }
        home.runOnContext(v -> action.run());
    }

    private void starve() {
        starved = true;
        schedulePoll();
    }

    /**
     * Claims nothing until this node's claims are safe again ({@link DurableJobs#claimsSafe}),
     * looking every {@link #STALE_RECHECK}. why not claim meanwhile: what it claimed could not be
     * started, and claiming and giving back would loop while the database answers claims but the
     * heartbeat does not land (its node row locked by another session, say).
     */
    private void awaitFreshClaims() {
        starved = true;
        schedulePoll(STALE_RECHECK);
    }

    /**
     * The poll interval may have changed (a reload): a pending poll due later than one interval
     * from now is brought forward, so a shorter interval holds from now on, not after the old one
     * ran out. This thread.
     */
    void pollIntervalChanged() {
        if (starved) {
            schedulePoll();
        }
    }

    /** Sets the poll timer one interval ({@link #nextPollWait}) from now, unless one is pending that fires sooner. */
    private void schedulePoll() {
        if (closed || context == null) {
            return;
        }
        schedulePoll(nextPollWait());
    }

    /** Sets the poll timer {@code interval} from now, unless one is pending that fires sooner. */
    private void schedulePoll(Duration interval) {
        if (closed || context == null) {
            return;
        }
        long due = jobs.timers().nanoTime() + interval.toNanos();
        if (cancelPoll != null) {
            if (pollDueNanos - due <= 0) {
                return;
            }
            cancelPoll.run();
        }
        pollDueNanos = due;
        cancelPoll = jobs.timers().schedule(interval, () -> {
            cancelPoll = null;
            starved = false;
            refillIfLow();
        });
    }

    /**
     * How long a starved feed waits before it claims again: jobs.poll-interval; on a limited queue,
     * the next slot retry when that is sooner (each call backs it off). This thread.
     */
    private Duration nextPollWait() {
        Duration interval = jobs.pollInterval();
        if (!jobs.limited()) {
            return interval;
        }
        // why sooner: a short claim of a limited queue may mean its slots (or tokens) were all
        // taken, not that it is empty; a slot another node frees is announced only by a
        // handoff that gave it up for a waiter (a token coming back never is), so look again
        // soon, backing off to the poll interval while claims keep coming back short.
        if (slotRetryMillis < 0) {
            slotRetryMillis = jobs.firstRetry().toMillis();
        }
        Duration retry = Duration.ofMillis(slotRetryMillis);
        // why capped at SLOT_LOOK: a wait counts only while its claimant keeps looking (the
        // store forgets a wait not renewed for a second), and a freed slot waits for a look.
        slotRetryMillis = Math.min(Math.max(1, Math.min(interval.toMillis(), SLOT_LOOK.toMillis())), 2 * slotRetryMillis);
        return retry.compareTo(interval) < 0 ? retry : interval;
    }

    private void wakeWaiting() {
        if (waiting.isEmpty()) {
            return;
        }
        // why all of them: a woken worker that finds the buffer empty again simply parks again,
        // while a worker left asleep beside a full buffer would be a job not run.
        List<Runnable> woken = new ArrayList<>(waiting);
        waiting.clear();
        woken.forEach(this::wakeOne);
    }

    private void wakeOne(Runnable wake) {
        try {
            wake.run();
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("event", "jobs.problem")
                    .log("waking a worker failed: {}", e.toString());
        }
    }
}
