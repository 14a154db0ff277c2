package io.shieldpool.jobs.runtime;

import io.shieldpool.time.Ticker;
import io.shieldpool.jobs.AckResults;
import io.shieldpool.jobs.FailOutcome;
import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.Limiting;
import io.shieldpool.jobs.RecoveredJob;
import io.shieldpool.jobs.RetryPolicy;
import io.shieldpool.jobs.StoreWait;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.shieldpool.jobs.sqlite.SqliteJobStore;
import io.shieldpool.jobs.sqlite.SqliteSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The daemon's durable jobs: the store, one {@link JobFeed} per shard, the retention sweep, and
 * the log lines and counters of every job event. Built before the pool starts (it recovers the
 * jobs a dead predecessor left running before the daemon reports ready) and closed after the pool
 * has stopped (after the last ack has been committed).
 *
 * <p>Events: {@code job.claimed} and {@code job.done} at DEBUG (one per job), {@code job.failed}
 * (with {@code next_attempt_at}) at WARN, {@code job.dead} at ERROR, {@code job.released} and
 * {@code job.recovered} at INFO.
 */
public final class DurableJobs {

    private static final Logger log = LoggerFactory.getLogger(DurableJobs.class);

    private final JobStore store;
    private final Supplier<ShieldpoolConfig> config;
    private final Clock clock;
    private final JobCounters counters = new JobCounters();
    private final List<JobFeed> feeds = new CopyOnWriteArrayList<>();
    private final String queue;
    private final boolean limited;
    private final boolean slotLimited;
    private final Duration firstRetry;
    /** A concurrency limit and no rate: the daemon's slots of it (its sections start only with one); null otherwise. */
    private final SlotPermits permits;
    /** See {@link #groupsAcks()}. */
    private final boolean groupsAcks;
    private volatile Ticker timers;
    /** Guards the sweep's timer: the sweep's own callbacks and a reload's reschedule race. */
    private final Object sweepLock = new Object();
    private Runnable cancelSweep = () -> { };
    /** Bumped at each reschedule: a sweep of an older generation sets no further timer. */
    private long sweepGeneration;
    private Duration sweptWith;
    private volatile long lastStoreWarnNanos;
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

    DurableJobs(JobStore store, Supplier<ShieldpoolConfig> config, Clock clock) {
        this.store = store;
        this.config = config;
        this.clock = clock;
        this.queue = config.get().jobs().queue();
        ShieldpoolConfig.Jobs settings = config.get().jobs();
        // why the store decides: its claims and acks follow the same answer (Limiting). With a
        // rate, tokens are spent at a claim, so each claim takes the queue's lock and each claimed
        // job counts; a concurrency alone is held by slots (SlotPermits), and its jobs are claimed
        // and acked as those of a queue without limits.
        Limiting limiting = store.limiting(queue);
        this.limited = limiting.claimsLimited();
        this.slotLimited = limiting.acksFreeSlots();
        this.permits = limiting.slotsHeld()
                ? new SlotPermits(store, queue, () -> feeds.forEach(feed -> feed.onHome(feed::slotsAvailable))) : null;
        // why a rate-only queue too: its tokens are spent at the claim and come back with time, so
        // an ack frees nothing and may join the group commit; with a concurrency beside the rate,
        // a claimed job holds its share until its ack, which is written at once
        this.groupsAcks = store.shared() && !slotLimited;
        double rate = settings.postgresql().limitRate();
        // why: tokens come back at the rate; looking for one more often than that only takes turns at the queue's lock.
        this.firstRetry = limited && rate > 0
                ? Duration.ofMillis(Math.max(10, (long) Math.ceil(1000 / rate)))
                : Duration.ofMillis(10);
        store.onJobsAvailable(() -> {
            feeds.forEach(JobFeed::wake);
            if (permits != null) {
                // why: a slot given back for this node is announced on the same wake-up
                permits.slotMayBeFree();
            }
        });
        if (permits != null) {
            store.onSlotsWanted(permits::othersWant);
        }
    }

    /**
     * Opens the configured store for this daemon (taking its single-instance lock) and recovers
     * the jobs a dead predecessor left running. Blocking; call before the pool starts.
     *
     * @param config the running config (read again for the keys a reload may change)
     * @throws JobStoreException IN_USE when another daemon holds the store, UNUSABLE when it cannot be opened
     */
    public static DurableJobs open(Supplier<ShieldpoolConfig> config, Clock clock) {
        return open(config, clock, StoreWait.NEVER);
    }

    /**
     * Like {@link #open(Supplier, Clock)}; a shared store (PostgreSQL) whose server does not answer
     * yet is waited for as {@code wait} says, and a SQLite file another process keeps locked is
     * waited for (its busy timeout) until {@code wait} reports a stop.
     */
    public static DurableJobs open(Supplier<ShieldpoolConfig> config, Clock clock, StoreWait wait) {
        ShieldpoolConfig.Jobs settings = config.get().jobs();
        long opening = System.nanoTime();
        JobStore store = switch (settings.store()) {
            case SQLITE -> SqliteJobStore.openForDaemon(sqliteSettings(settings), JobOwner.thisProcess(), clock, wait);
            case POSTGRESQL -> PostgresJobStore.openForDaemon(PostgresSettings.of(settings),
                    JobOwner.thisProcess(), clock, wait);
            case NONE -> throw new IllegalStateException("jobs.store = none has no store to open");
        };
        DurableJobs jobs = new DurableJobs(store, config, clock);
        try {
            jobs.recover(System.nanoTime() - opening);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return jobs;
    }

    /** The SQLite settings the config names. */
    public static SqliteSettings sqliteSettings(ShieldpoolConfig.Jobs settings) {
        return SqliteSettings.of(settings.sqlitePath()).withSynchronous(
                settings.sqliteFullSync() ? SqliteSettings.Synchronous.FULL : SqliteSettings.Synchronous.NORMAL);
    }

    private void recover(long openNanos) {
        long begun = System.nanoTime();
        List<RecoveredJob> recovered = await(store.recoverOrphans(), Duration.ofSeconds(60));
        for (RecoveredJob job : recovered) {
            counters.recovered.increment();
            log.atInfo().addKeyValue("event", "job.recovered").addKeyValue("job", job.id())
                    .addKeyValue("attempt", job.attempt()).addKeyValue("owner", job.owner())
                    .addKeyValue("owner_pid", job.ownerPid()).addKeyValue("dead", job.dead())
                    .log("job {} recovered: attempt {} was cut when its owner (pid {}) died; {}", job.id(), job.attempt(),
                            job.ownerPid(), job.dead() ? "that was its last attempt, it is dead" : "ready again");
        }
        log.atInfo().addKeyValue("event", "jobs.open").addKeyValue("store", config.get().jobs().store().name().toLowerCase())
                .addKeyValue("queue", queue).addKeyValue("recovered", recovered.size())
                .addKeyValue("took_ms", (System.nanoTime() - begun) / 1_000_000)
                .addKeyValue("open_ms", openNanos / 1_000_000)
                .log("job store open (queue {}): {} job(s) of a dead predecessor recovered", queue, recovered.size());
    }

    /** Starts the retention sweep; call once Vert.x is up. */
    public void start(Vertx vertx) {
        start(Ticker.of(vertx));
    }

    /** {@link #start(Vertx)} with the given time (tests move it by hand). */
    void start(Ticker time) {
        this.timers = time;
        if (permits != null) {
            permits.start(time);
        }
        long generation;
        synchronized (sweepLock) {
            generation = sweepGeneration;
        }
        sweep(generation);
    }

    /**
     * A reload was applied: the live keys take effect now, not when the timers set under the old
     * values run out. A shorter {@code jobs.poll-interval} brings idle feeds' pending polls forward;
     * a changed {@code jobs.retention.done} sweeps at once and from then on at its own pace.
     * {@code jobs.max-attempts} and {@code jobs.retry.*} are read at each use and need nothing here.
     * Any thread; returns at once.
     */
    public void configChanged() {
        feeds.forEach(feed -> feed.onHome(feed::pollIntervalChanged));
        Duration retention = config.get().jobs().retentionDone();
        long generation;
        synchronized (sweepLock) {
            if (timers == null || closing.get() || retention.equals(sweptWith)) {
                return;
            }
            cancelSweep.run();
            generation = ++sweepGeneration;
        }
        sweep(generation);
    }

    Ticker timers() {
        return timers;
    }

    /** A new feed for shard {@code index}; the shard's workers take their jobs from it. */
    public JobFeed feedFor(int index) {
        JobFeed feed = new JobFeed(this, index);
        feeds.add(feed);
        return feed;
    }

    public JobStore store() {
        return store;
    }

    public JobCounters counters() {
        return counters;
    }

    /** Attempts a job enqueued without its own limit gets (live: follows reloads). */
    public int maxAttempts() {
        return config.get().jobs().maxAttempts();
    }

    /** The store's kind, as configured (sqlite). */
    public String storeName() {
        return config.get().jobs().store().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The queue this daemon's workers serve. */
    public String queue() {
        return queue;
    }

    /** Jobs claimed into buffers and not started, across all shards (a snapshot, racy by design). */
    public int buffered() {
        return feeds.stream().mapToInt(JobFeed::buffered).sum();
    }

    /** What {@code jobs.claim-batch = auto} claims on a store that is not {@linkplain JobStore#shared shared}. */
    static final int PRIVATE_STORE_CLAIM_BATCH = 32;

    /**
     * Whether the feeds size their claims by demand ({@link ClaimSizer}, up to {@link #claimCap}):
     * {@code jobs.claim-batch = auto} on a shared store. why only there: a job buffered by one node
     * is one no other node's idle worker can run, and each claim is a round trip to a server all
     * nodes share; a private store's claims are local and cheap, and it keeps a fixed
     * {@value #PRIVATE_STORE_CLAIM_BATCH} (its J1-J4 figures were measured so).
     * A limited queue claims only for idle workers and never buffers (JobFeed).
     */
    boolean claimsFollowDemand() {
        return config.get().jobs().claimBatch().auto() && store.shared();
    }

    /**
     * The most jobs a shard's buffer holds on a queue without limits: the store's
     * {@linkplain JobStore#claimsPerWorker per-worker cap} times the shard's workers. why a cap:
     * jobs buffered behind long sections wait there while other nodes' workers may be idle, and at
     * a SIGKILL each is rescued with an attempt counted (a drain gives them back uncounted).
     */
    int claimCap() {
        ShieldpoolConfig c = config.get();
        int perShard = (c.pool().size() + c.pool().eventLoops() - 1) / Math.max(1, c.pool().eventLoops());
        return store.claimsPerWorker() * Math.max(1, perShard);
    }

    /**
     * The most jobs one claim takes into a shard's buffer when claims do not
     * {@linkplain #claimsFollowDemand follow demand}: {@code jobs.claim-batch} (auto:
     * {@value #PRIVATE_STORE_CLAIM_BATCH}), at most {@link #claimCap}.
     */
    int claimBatch() {
        ShieldpoolConfig.ClaimBatch configured = config.get().jobs().claimBatch();
        int batch = configured.auto() ? PRIVATE_STORE_CLAIM_BATCH : configured.fixed();
        return Math.max(1, Math.min(batch, claimCap()));
    }

    /**
     * Whether the store's claims of {@link #queue} are {@linkplain Limiting#claimsLimited limited}
     * (a cluster-wide rate, with or without a concurrency; PostgreSQL only). Then a claimed job
     * holds its token (and its share of the concurrency, with one) from its claim on, so the feeds
     * claim only for workers idle right now, and claim again as soon as a slot or token may be
     * free. A queue with a concurrency and no rate is not limited in this sense: its slots are
     * {@link #permits}.
     */
    boolean limited() {
        return limited;
    }

    /** Whether this node may start, and claim, jobs: its claims are still its own ({@link JobStore#claimsSafe}). */
    boolean claimsSafe() {
        return store.claimsSafe();
    }

    /** The store's {@link JobStore#claimEpoch}: jobs claimed in an earlier one may have been rescued. */
    long claimEpoch() {
        return store.claimEpoch();
    }

    /** The queue has a cluster-wide rate and concurrency: an ack frees a slot (a rate's tokens come back with time only). */
    boolean slotLimited() {
        return slotLimited;
    }

    /** The daemon's slots of a queue with a cluster-wide concurrency and no rate; null for any other queue. */
    SlotPermits permits() {
        return permits;
    }

    /**
     * Acks on PostgreSQL are sent per event-loop turn as one request ({@link JobFeed#completed},
     * {@link #completeAll}), but for a queue with a rate and a concurrency. why: the store's own
     * thread was the daemon's busiest, and a hop to it and back per ack was most of its work (JFR,
     * pg-where-time-goes.sh); with a rate alone an ack frees nothing (a rate-only queue acked one
     * by one did ~700 jobs/s at 1,095 us of server CPU per job, one commit each); with a rate and
     * a concurrency an ack frees a slot and is written at once.
     */
    boolean groupsAcks() {
        return groupsAcks;
    }

    /** Limited queue: the first wait after a short claim (10 ms, or one token's time at the rate). */
    Duration firstRetry() {
        return firstRetry;
    }

    /** A job of this daemon was acked, failed or released: its cluster slot is free; feeds waiting for one look again. */
    void slotFreed() {
        if (!slotLimited) {
            return;
        }
        for (JobFeed feed : feeds) {
            feed.onHome(feed::slotFreed);
        }
    }

    Duration pollInterval() {
        return config.get().jobs().pollInterval();
    }

    Future<List<Job>> claim(int limit, int shard) {
        return store.claim(queue, limit, shard).onSuccess(jobs -> {
            counters.claimed.add(jobs.size());
            logClaimed(jobs);
        });
    }

    private static void logClaimed(List<Job> jobs) {
        if (log.isDebugEnabled()) {
            for (Job job : jobs) {
                log.atDebug().addKeyValue("event", "job.claimed").addKeyValue("job", job.id())
                        .addKeyValue("queue", job.queue()).addKeyValue("attempt", job.attempt())
                        .log("job {} claimed (attempt {} of {})", job.id(), job.attempt(), job.maxAttempts());
            }
        }
    }

    /**
     * Moves up to {@code most} claimed, unstarted jobs from the other shards' buffers to
     * {@code thief}, whose workers are idle while the queue is empty. Called on the thief's thread.
     */
    void rebalanceTo(JobFeed thief, int most) {
        for (JobFeed victim : feeds) {
            if (victim != thief) {
                victim.onHome(() -> {
                    long epoch = claimEpoch();
                    List<Job> shed = victim.shed(most);
                    if (!shed.isEmpty()) {
                        thief.onHome(() -> thief.accept(shed, epoch));
                    }
                });
            }
        }
    }

    void claimFailed(int shard, Throwable cause) {
        storeError("claim", cause, 1, NOTHING_CLAIMED);
    }

    Future<Boolean> complete(Job job) {
        long begun = System.nanoTime();
        return store.complete(job).onComplete(ar -> acked(job, begun, ar));
    }

    /**
     * Acks {@code done} (completed sections of a queue without limits) in one store request; each
     * job's counters and line as {@link #complete} writes them. The ack latency counted is the
     * request's, once per job, as if each had been acked alone.
     */
    Future<AckResults> completeAll(List<Job> done) {
        long begun = System.nanoTime();
        return store.completeAll(done).onComplete(ar -> {
            int n = done.size();
            counters.ackNanos.add((System.nanoTime() - begun) * n);
            counters.acks.add(n);
            if (ar.failed()) {
                storeError("ack of " + n + " job(s)", ar.cause(), n);
                return;
            }
            AckResults results = ar.result();
            counters.done.add(results.landed().size());
            if (!results.failed().isEmpty()) {
                storeError("ack of " + results.failed().size() + " job(s)", results.failure(), results.failed().size());
            }
            boolean debug = log.isDebugEnabled();
            if (debug || results.landed().size() + results.failed().size() < n) {
                for (Job job : done) {
                    if (results.landed().contains(job.id())) {
                        if (debug) {
                            log.atDebug().addKeyValue("event", "job.done").addKeyValue("job", job.id())
                                    .addKeyValue("attempt", job.attempt()).log("job {} done (attempt {})", job.id(), job.attempt());
                        }
                    } else if (!results.failed().contains(job.id())) {
                        fenced(job, "ack");
                    }
                }
            }
        });
    }

    private void acked(Job job, long begun, io.vertx.core.AsyncResult<Boolean> ar) {
        {
            counters.ackNanos.add(System.nanoTime() - begun);
            counters.acks.increment();
            if (ar.failed()) {
                storeError("ack of job " + job.id(), ar.cause());
            } else if (ar.result()) {
                counters.done.increment();
                if (log.isDebugEnabled()) {
                    log.atDebug().addKeyValue("event", "job.done").addKeyValue("job", job.id())
                            .addKeyValue("attempt", job.attempt()).log("job {} done (attempt {})", job.id(), job.attempt());
                }
            } else {
                fenced(job, "ack");
            }
        }
    }

    Future<FailOutcome> fail(Job job, Throwable cause) {
        String error = cause == null ? "failed" : cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        ShieldpoolConfig.Jobs settings = config.get().jobs();
        RetryPolicy policy = new RetryPolicy(settings.retryBackoff(), settings.retryMaxBackoff(), settings.retryJitter());
        Instant retryAt = policy.nextAttemptAt(clock.instant(), job.attempt(), ThreadLocalRandom.current()::nextDouble);
        return store.fail(job, error, retryAt).onComplete(ar -> {
            if (ar.failed()) {
                storeError("failure of job " + job.id(), ar.cause());
                return;
            }
            FailOutcome outcome = ar.result();
            if (!outcome.recorded()) {
                fenced(job, "failure");
            } else if (outcome.nextAttemptAt().isPresent()) {
                counters.failed.increment();
                log.atWarn().addKeyValue("event", "job.failed").addKeyValue("job", job.id())
                        .addKeyValue("attempt", job.attempt()).addKeyValue("max_attempts", job.maxAttempts())
                        .addKeyValue("error", error).addKeyValue("next_attempt_at", outcome.nextAttemptAt().get().toString())
                        .log("job {} failed on attempt {} of {}: {}; next attempt at {}", job.id(), job.attempt(),
                                job.maxAttempts(), error, outcome.nextAttemptAt().get());
            } else {
                counters.failed.increment();
                counters.dead.increment();
                log.atError().addKeyValue("event", "job.dead").addKeyValue("job", job.id())
                        .addKeyValue("attempt", job.attempt()).addKeyValue("error", error)
                        .log("job {} is dead: attempt {} of {} failed: {}; kept until retried (shieldpool jobs retry {})",
                                job.id(), job.attempt(), job.maxAttempts(), error, job.id());
            }
        });
    }

    Future<Integer> release(List<Job> jobs, boolean countAttempt) {
        if (jobs.isEmpty()) {
            return Future.succeededFuture(0);
        }
        return store.release(jobs, countAttempt).onComplete(ar -> {
            if (ar.failed()) {
                storeError("release of " + jobs.size() + " job(s)", ar.cause());
                return;
            }
            counters.released.add(ar.result());
            var line = log.atInfo().addKeyValue("event", "job.released").addKeyValue("count", ar.result())
                    .addKeyValue("counted", countAttempt)
                    .addKeyValue("jobs", jobs.stream().map(Job::id).toList());
            line.log(countAttempt ? "{} job(s) released: their attempts were cut by the grace cap; ready again"
                    : "{} job(s) released: claimed but not started; ready again, no attempt counted", ar.result());
        });
    }

    private void fenced(Job job, String what) {
        counters.fenced.increment();
        log.atWarn().addKeyValue("event", "job.fenced").addKeyValue("job", job.id()).addKeyValue("attempt", job.attempt())
                .log("job {}: {} of attempt {} rejected: that attempt no longer holds the job (released or recovered meanwhile)",
                        job.id(), what, job.attempt());
    }

    private void storeError(String what, Throwable cause) {
        storeError(what, cause, 1);
    }

    private void storeError(String what, Throwable cause, int requests) {
        storeError(what, cause, requests, STAYS_RUNNING);
    }

    /** What a failed claim leaves: nothing moved. */
    static final String NOTHING_CLAIMED = "nothing was claimed; claims are tried again";
    /** What a failed ack, failure or release leaves: the job as it was, running under this daemon. */
    static final String STAYS_RUNNING = "the job stays running and is recovered at the next start";

    /**
     * {@code requests} store requests (one per job, as if each had been asked alone) failed;
     * {@code leaves} says what that left, for the kind of request it was.
     */
    private void storeError(String what, Throwable cause, int requests, String leaves) {
        counters.storeErrors.add(requests);
        if (!store.reachable()) {
            // why: a shared store in an outage has said so once (jobs.store-unreachable); one line per outage, not per request.
            return;
        }
        long now = System.nanoTime();
        // why: a store outage fails every request; one line a second says it without flooding the log.
        if (now - lastStoreWarnNanos > TimeUnit.SECONDS.toNanos(1)) {
            lastStoreWarnNanos = now;
            log.atWarn().addKeyValue("event", "jobs.store-error").addKeyValue("error", String.valueOf(cause.getMessage()))
                    .log("job store: {} failed: {} ({})", what, cause.getMessage(), leaves);
        }
    }

    private void sweep(long generation) {
        Duration retention = config.get().jobs().retentionDone();
        synchronized (sweepLock) {
            sweptWith = retention;
        }
        store.purge(JobState.DONE, clock.instant().minus(retention)).onComplete(ar -> {
            if (ar.succeeded() && ar.result() > 0) {
                log.atDebug().addKeyValue("event", "jobs.retention").addKeyValue("deleted", ar.result())
                        .log("{} done job(s) older than {} deleted", ar.result(), retention);
            }
            Duration every = Duration.ofMillis(Math.max(1_000, Math.min(60_000, retention.toMillis() / 10)));
            synchronized (sweepLock) {
                if (generation == sweepGeneration && !closing.get()) {
                    cancelSweep = timers.schedule(every, () -> sweep(generation));
                }
            }
        });
    }

    /** The drain began (the first stop signal): the store tells the other nodes, if it has any. */
    public void drainBegan() {
        store.drainBegan();
        if (permits != null) {
            permits.draining();
        }
    }

    /**
     * The last step of a clean stop, after the pool has stopped: commits what is queued (the last
     * acks), gives back any job still running under this daemon (claimed, never started), closes
     * the store and releases its lock. Blocking, bounded.
     */
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        synchronized (sweepLock) {
            cancelSweep.run();
        }
        if (permits != null) {
            permits.close(); // why no give: the store's close marks the node stopped, which frees its slots
        }
        try {
            // why first: the acks the shards queued in their last turn go to the store before
            // releaseOwned, which waits for every ack sent before it (else it would give back, to
            // run again, jobs whose sections had ended).
            await(Future.all(feeds.stream().map(JobFeed::barrier).toList()), Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.atDebug().addKeyValue("event", "jobs.problem")
                .log("waiting for the shards' last acks: {}", e.toString());
        }
        try {
            int released = await(store.releaseOwned(), Duration.ofSeconds(10));
            if (released > 0) {
                counters.released.add(released);
                log.atInfo().addKeyValue("event", "job.released").addKeyValue("count", released)
                        .log("{} job(s) still held by this daemon given back at the stop (claimed but not started,"
                                + " or a section ended whose ack could not land); ready again", released);
            }
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("event", "jobs.problem")
                .log("job store: giving back unstarted jobs failed: {} (they are recovered at the next start)",
                    e.getMessage());
        }
        try {
            // why: the answers to the last acks and releases are handled on the shards' threads;
            // once each has run a task queued after them, their job.* lines are all written.
            await(Future.all(feeds.stream().map(JobFeed::barrier).toList()), Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.atDebug().addKeyValue("event", "jobs.problem")
                .log("waiting for the shards: {}", e.toString());
        }
        try {
            await(store.close(), Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("event", "jobs.problem")
                .log("job store did not close cleanly: {}", e.getMessage());
        }
    }

    static <T> T await(Future<T> future, Duration limit) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new JobStoreException(JobStoreException.Kind.FAILED,
                    String.valueOf(e.getCause().getMessage()), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new JobStoreException(JobStoreException.Kind.FAILED, "the job store did not answer within " + limit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JobStoreException(JobStoreException.Kind.FAILED, "interrupted");
        }
    }
}
