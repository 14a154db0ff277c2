package io.shieldpool.jobs;

import io.vertx.core.Future;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where durable jobs live. One implementation per database ({@code jobs/sqlite} now, a
 * PostgreSQL one on vertx-pg-client next); all of them pass {@code JobStoreContract}.
 *
 * <h2>Threading: every method returns a {@link Future} and never blocks</h2>
 * why: a PostgreSQL store on vertx-pg-client is asynchronous by nature and runs from the event
 * loop; a blocking store (SQLite over JDBC) runs its statements on a thread of its own and
 * completes the futures. Either way a worker's event loop only ever queues a request. A future
 * completes on the Vert.x context that made the call (none: on the store's own thread), so a shard
 * that claims gets its jobs back on its own thread, with no locking.
 *
 * <h2>Atomicity and fencing</h2>
 * Every state change of a job happens in exactly one transaction, and every statement that moves
 * a claimed job re-checks in its WHERE clause that the job is still running <em>under the same
 * owner and attempt</em>: an ack or failure from an attempt that was released, recovered or
 * rescued meanwhile changes nothing and reports so ({@code false}, {@link FailOutcome#FENCED}). A
 * store may put several requests in one transaction (group commit); it never splits one.
 *
 * <h2>Delivery: at least once</h2>
 * A job is done only once acknowledged. A process that dies between a section's end and its ack
 * leaves the job running under a dead owner; recovery makes it ready again and it runs once more.
 * Sections get the job id and attempt to be idempotent on their side.
 */
public interface JobStore {

    /** The owner this store claims for (one daemon run); stores opened by the CLI have one too but never claim. */
    JobOwner owner();

    /**
     * Whether several daemons take their jobs from this store (PostgreSQL). Only a shared store
     * serves cluster-wide limits, and only there is a job buffered by one daemon one that the
     * others cannot run: {@code jobs.claim-batch = auto} sizes claims by demand on a shared store
     * and takes a fixed 32 on a private one.
     */
    boolean shared();

    /**
     * The most claimed, unstarted jobs a shard's buffer holds per worker of the shard, whatever
     * {@code jobs.claim-batch} says. A store whose claims are round trips to a server shared by
     * every node allows more (a commit's worth of jobs must cover the workers' short sections)
     * than one whose claims are local and cheap.
     */
    int claimsPerWorker();

    /**
     * Adds jobs, all in one transaction: either all of them are durable when the future succeeds,
     * or none. A job whose unique key a kept job already has is not added ({@link Enqueued#created()} false).
     * Wakes this store's {@link #onJobsAvailable} listeners once committed.
     */
    Future<List<Enqueued>> enqueue(List<NewJob> jobs);

    /**
     * Claims up to {@code limit} ready jobs of {@code queue} whose run-at has come, oldest run-at
     * first: each becomes running under {@link #owner()} with its attempt counted (+1). A job is
     * claimed by one claim only, however many claims run at once.
     */
    Future<List<Job>> claim(String queue, int limit);

    /**
     * {@link #claim(String, int)} for one claimant of this owner ({@code shard}): a store that
     * serves cluster-wide limits records what a short claim still wants, so that freed slots go to
     * the claimant that waited longest (PostgreSQL); others ignore {@code shard}.
     */
    default Future<List<Job>> claim(String queue, int limit, int shard) {
        return claim(queue, limit);
    }

    /**
     * How this store keeps {@code queue}'s cluster-wide limits, as its settings say: the one
     * reader of that decision (the daemon's feeds ask here, the store's claims and acks follow
     * it). A store without cluster-wide limits (SQLite) answers {@link Limiting#NONE}.
     */
    default Limiting limiting(String queue) {
        return Limiting.NONE;
    }

    /**
     * Takes up to {@code wanted} more slots of {@code queue}'s cluster-wide concurrency limit for
     * this owner's node (a queue with a concurrency and no rate, on a store that serves limits): a
     * node starts a section of that queue only while it holds a slot for it, and the slots all
     * nodes hold never exceed the limit. A take that gets less than it asked for waits in line
     * (the node that waited longest gets the next freed slot) and tells the holders; its wait
     * lapses unless renewed within a second. Stores without limits refuse.
     */
    default Future<Slots> takeSlots(String queue, int wanted) {
        return Future.failedFuture(new UnsupportedOperationException("this job store has no cluster-wide limits"));
    }

    /**
     * Gives back {@code count} slots of {@code queue} held by this owner's node; the node that
     * waited longest for one is told. Never retried by the store: a give whose answer was lost may
     * have landed, and giving twice would count fewer slots held than run (the holder looks
     * instead, {@link #lookAtSlots}).
     */
    default Future<Slots> giveSlots(String queue, int count) {
        return Future.failedFuture(new UnsupportedOperationException("this job store has no cluster-wide limits"));
    }

    /** The slots of {@code queue} this owner's node holds and who else wants some, changing nothing. */
    default Future<Slots> lookAtSlots(String queue) {
        return Future.failedFuture(new UnsupportedOperationException("this job store has no cluster-wide limits"));
    }

    /**
     * Calls {@code listener} (any thread; must not block) when another node wants slots of a
     * queue (its take came back short): holders then give back what they hold beyond their
     * {@linkplain Slots#fairShare fair share}. A hint, never a promise.
     */
    default void onSlotsWanted(Runnable listener) {
    }

    /**
     * Whether what this node claimed is still its own: false once its last heartbeat that landed
     * is older than its ttl (less one heartbeat interval), when the other nodes may count it dead,
     * rescue its jobs and free its slots. A node then starts nothing it claimed (it gives its
     * claimed, unstarted jobs back, fenced) and claims nothing until a heartbeat lands again.
     */
    default boolean claimsSafe() {
        return true;
    }

    /**
     * Counts the spells in which this node's claims were not safe ({@link #claimsSafe} false): it
     * grows when a heartbeat lands after one. Jobs claimed (or a claim sent) in an earlier count
     * may have been rescued and run elsewhere meanwhile, so the node gives them back (fenced)
     * instead of starting them, even though its claims are safe again.
     */
    default long claimEpoch() {
        return 0;
    }

    /** Acks an attempt: the job becomes done. False when that attempt no longer holds the job (fenced). */
    Future<Boolean> complete(Job claimed);

    /**
     * Acks several attempts (of different jobs), each as {@link #complete} does, in one request:
     * one answer for all of them. why: a worker pool ends many sections per event-loop turn, and a
     * request per ack cost a thread hop each way per job. The default asks {@link #complete} for each.
     */
    default Future<AckResults> completeAll(List<Job> claimed) {
        List<Future<Boolean>> each = claimed.stream().map(this::complete).toList();
        return Future.join(each).transform(ignored -> {
            java.util.Set<Long> landed = new java.util.HashSet<>();
            java.util.Set<Long> failed = new java.util.HashSet<>();
            Throwable failure = null;
            for (int i = 0; i < each.size(); i++) {
                Future<Boolean> ack = each.get(i);
                if (ack.failed()) {
                    failed.add(claimed.get(i).id());
                    failure = ack.cause();
                } else if (ack.result()) {
                    landed.add(claimed.get(i).id());
                }
            }
            return Future.succeededFuture(new AckResults(landed, failed, failure));
        });
    }

    /**
     * Records a failed attempt: the job becomes ready again at {@code retryAt}, or dead when the
     * attempt was its last. {@link FailOutcome#FENCED} when the attempt no longer holds the job.
     */
    Future<FailOutcome> fail(Job claimed, String error, Instant retryAt);

    /**
     * Gives claimed jobs back, ready now. {@code countAttempt} false: the attempt never began (a
     * job claimed into a buffer and not started), so it is not counted; true: an attempt was cut
     * (the grace cap), it counts, and a job that was on its last attempt becomes dead. Fenced like
     * an ack: only jobs still held by the same attempt move. Returns how many moved.
     */
    Future<Integer> release(List<Job> claimed, boolean countAttempt);

    /**
     * Makes ready again every running job whose owner is gone (dead when the cut attempt was its
     * last), and returns them. For an embedded store with a single-instance lock, every owner but
     * {@link #owner()} is gone. Called once at start, before the pool reports ready.
     */
    Future<List<RecoveredJob>> recoverOrphans();

    /** Gives back, uncounted, every job still running under {@link #owner()}: the last step of a clean stop. */
    Future<Integer> releaseOwned();

    /** Counts per queue (every queue that has jobs, plus {@code alwaysShown}). */
    Future<List<QueueStats>> stats(List<String> alwaysShown);

    /** Up to {@code limit} jobs, newest first, filtered by state and queue when given. */
    Future<List<Job>> list(Optional<JobState> state, Optional<String> queue, int limit);

    /** The job with this id, if kept. */
    Future<Optional<Job>> find(long id);

    /**
     * Makes a dead (or ready) job ready now, with a fresh set of attempts. False when there is no
     * such job or it is running or done.
     */
    Future<Boolean> retry(long id);

    /** {@link #retry} for every dead job (of {@code queue} when given); returns how many. */
    Future<Integer> retryDead(Optional<String> queue);

    /**
     * Deletes {@link JobState#DONE} or {@link JobState#DEAD} jobs finished before
     * {@code finishedBefore}; returns how many. Other states are never purged.
     */
    Future<Integer> purge(JobState state, Instant finishedBefore);

    /**
     * Calls {@code listener} (on any thread; it must not block) when jobs may have become
     * claimable: after an enqueue through this store, and, where the database can tell, after
     * other processes changed it. A hint to claim now instead of at the next poll, never a promise.
     */
    void onJobsAvailable(Runnable listener);

    /**
     * Whether the store's database answered the last requests and took their writes (a shared
     * store may lose its server for a while, or find it read-only; /readyz reports that). An
     * embedded store is always reachable.
     */
    default boolean reachable() {
        return true;
    }

    /**
     * Why this store takes no more jobs though it still answers, if so: an embedded store whose
     * file was removed or replaced while the daemon ran. Its open file still serves what it holds
     * (claims, acks), but anything written to it is gone at the stop, so {@link #enqueue} fails
     * and /readyz answers 503 with this one-line reason. Once lost, lost until a restart.
     */
    default Optional<String> lost() {
        return Optional.empty();
    }

    /**
     * This daemon began to drain (its first stop signal): no new section starts, the ones in
     * flight run on. A shared store says so to the other nodes at once (the node's row reads
     * draining) and keeps heartbeating until {@link #close}: a stopping node is not dead, so its
     * jobs are not rescued. Never blocks; an embedded store has no one to tell.
     */
    default void drainBegan() {
    }

    /**
     * Finishes what was requested before this call, then closes; requests made after it fail.
     * Releases the single-instance lock, if held.
     */
    Future<Void> close();
}
