package io.shieldpool.jobs.sqlite;

import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The one platform thread that touches the store's JDBC connection. Requests queue up from any
 * thread; the thread takes every request waiting (up to {@link #MAX_BATCH}) and runs them in one
 * transaction: group commit. why: with synchronous=FULL a commit costs an fsync, and one fsync for
 * a few hundred acks and claims is what makes tens of thousands of jobs a second possible. Each
 * request is still all-or-nothing: a batch that fails is rolled back and its requests rerun one
 * transaction each, so one bad request fails alone. JDBC never runs on an event loop.
 */
final class StoreThread {

    private static final Logger log = LoggerFactory.getLogger(StoreThread.class);

    /** Most requests in one transaction: bounds the time the write lock is held (~ms). */
    static final int MAX_BATCH = 1024;
    /** A batch that meets another process's write lock past busy_timeout is tried this often. */
    private static final int BUSY_RETRIES = 3;

    /** One piece of work for the store, run inside a transaction on the store thread. */
    abstract static class Request<T> {
        final Promise<T> promise = Promise.promise();
        final Context caller = Vertx.currentContext();
        /** Whether it may write: writes take BEGIN IMMEDIATE, batches of reads only a read snapshot. */
        final boolean writes;
        T result;

        Request(boolean writes) {
            this.writes = writes;
        }

        /** Runs the request's statements; any ResultSet must be closed before returning (COMMIT fails otherwise). */
        abstract T run(Connection connection) throws SQLException;

        /** After the commit: the store thread, before the caller is told. */
        void committed() {
        }

        final void succeed() {
            T value = result;
            if (caller == null) {
                promise.tryComplete(value);
            } else {
                caller.runOnContext(v -> promise.tryComplete(value));
            }
        }

        /** On the caller's context: completes the promise with the result; a listener's failure stays its own. */
        final void completeHere() {
            try {
                promise.tryComplete(result);
            } catch (RuntimeException e) {
                log.atWarn().addKeyValue("event", "jobs.problem")
                        .log("a job store caller's callback failed: {}", e.toString());
            }
        }

        final void fail(Throwable cause) {
            if (caller == null) {
                promise.tryFail(cause);
            } else {
                caller.runOnContext(v -> promise.tryFail(cause));
            }
        }
    }

    private final Connection connection;
    private final LinkedBlockingQueue<Request<?>> queue = new LinkedBlockingQueue<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final Promise<Void> closed = Promise.promise();
    private final BooleanSupplier idle;
    private final long idleCheckNanos;
    private final long idleCheckMaxNanos;
    private final Thread thread;
    private final Statement control;
    /**
     * The statements every batch runs, prepared once. why: a plain Statement prepares its SQL
     * anew each time, and the driver first matches it against its own extension commands
     * (regular expressions): per commit that cost as much as a few acks. Prepared again after a
     * failed batch: the driver finalizes a statement that fails with some errors (an I/O error,
     * a full disk), and the store must go on once the cause is gone.
     */
    private PreparedStatement beginWrite;
    private PreparedStatement beginRead;
    private PreparedStatement commit;

    /**
     * @param idle              the wake check: run when the queue has been empty for the current
     *                          interval (and at most every {@code idleCheckNanos} while busy);
     *                          returns whether it found news (another process's commit)
     * @param idleCheckNanos    the interval right after activity (a request, news)
     * @param idleCheckMaxNanos the interval doubles up to this while the checks find nothing
     */
    StoreThread(String name, Connection connection, BooleanSupplier idle, long idleCheckNanos, long idleCheckMaxNanos)
            throws SQLException {
        this.connection = connection;
        this.idle = idle;
        this.idleCheckNanos = idleCheckNanos;
        this.idleCheckMaxNanos = idleCheckMaxNanos;
        this.control = connection.createStatement();
        prepareControl();
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::loop);
    }

    void start() {
        thread.start();
    }

    /** Queues a request; fails it at once when the store is closing. */
    <T> Future<T> submit(Request<T> request) {
        if (closing.get()) {
            request.fail(new JobStoreException(JobStoreException.Kind.FAILED, "the job store is closed"));
            return request.promise.future();
        }
        queue.add(request);
        if (closed.future().isComplete() && queue.remove(request)) {
            // why: added just after the thread drained its queue for the last time
            request.fail(new JobStoreException(JobStoreException.Kind.FAILED, "the job store is closed"));
        }
        return request.promise.future();
    }

    /** Runs what was queued before this call, then closes the connection; idempotent. */
    Future<Void> close() {
        if (closing.compareAndSet(false, true)) {
            queue.add(new Request<Void>(false) {
                @Override
                Void run(Connection c) {
                    return null;
                }
            });
        }
        return closed.future();
    }

    boolean onStoreThread() {
        return Thread.currentThread() == thread;
    }

    private void loop() {
        List<Request<?>> batch = new ArrayList<>(MAX_BATCH);
        long lastIdleCheck = System.nanoTime();
        long wait = idleCheckNanos;
        try {
            while (true) {
                Request<?> first = queue.poll(wait, TimeUnit.NANOSECONDS);
                if (first == null) {
                    if (closing.get() && queue.isEmpty()) {
                        break;
                    }
                    // why back off: an idle daemon's only news is another process's commit (our own
                    // enqueues wake the feeds directly), and each look costs a wake-up; a look that
                    // finds news, or any request, brings the interval back to its minimum.
                    wait = runIdle() ? idleCheckNanos : Math.min(idleCheckMaxNanos, 2 * wait);
                    lastIdleCheck = System.nanoTime();
                    continue;
                }
                wait = idleCheckNanos;
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                runBatch(batch);
                batch.clear();
                if (System.nanoTime() - lastIdleCheck >= idleCheckNanos) {
                    runIdle();
                    lastIdleCheck = System.nanoTime();
                }
                if (closing.get() && queue.isEmpty()) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            shutDown();
        }
    }

    private boolean runIdle() {
        try {
            return idle.getAsBoolean();
        } catch (RuntimeException e) {
            log.atDebug().addKeyValue("event", "jobs.problem")
                .log("job store idle check failed: {}", e.toString());
            return false;
        }
    }

    private void runBatch(List<Request<?>> batch) {
        boolean writes = false;
        for (Request<?> request : batch) {
            writes |= request.writes;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                runInTransaction(batch, writes);
                for (Request<?> request : batch) {
                    request.committed();
                }
                answer(batch);
                return;
            } catch (SQLException e) {
                rollbackQuietly();
                if (isBusy(e) && attempt < BUSY_RETRIES) {
                    log.atWarn().addKeyValue("event", "jobs.problem")
                .log("job store busy (another process holds the write lock): retrying ({} of {})",
                            attempt, BUSY_RETRIES);
                    continue;
                }
                if (batch.size() == 1) {
                    batch.getFirst().fail(new JobStoreException(JobStoreException.Kind.FAILED,
                            "job store statement failed: " + e.getMessage(), e));
                    return;
                }
                // why: one request's failure must not fail the others of its batch.
                for (Request<?> request : batch) {
                    runBatch(List.of(request));
                }
                return;
            }
        }
    }

    /**
     * Tells the callers of a committed batch: one task per calling context, which completes that
     * context's requests in batch order. why not a task per request: each is a hand-off to another
     * thread (a queue offer, and often a wake-up of its event loop), and with a few hundred acks
     * per commit those hand-offs cost more CPU than the statements themselves.
     */
    private void answer(List<Request<?>> batch) {
        List<Context> contexts = new ArrayList<>(4);
        List<List<Request<?>>> groups = new ArrayList<>(4);
        for (Request<?> request : batch) {
            if (request.caller == null) {
                request.succeed();
                continue;
            }
            int at = contexts.indexOf(request.caller);
            if (at < 0) {
                at = contexts.size();
                contexts.add(request.caller);
                groups.add(new ArrayList<>());
            }
            groups.get(at).add(request);
        }
        for (int i = 0; i < contexts.size(); i++) {
            List<Request<?>> group = groups.get(i);
            contexts.get(i).runOnContext(v -> {
                for (Request<?> request : group) {
                    request.completeHere();
                }
            });
        }
    }

    private void runInTransaction(List<Request<?>> batch, boolean writes) throws SQLException {
        (writes ? beginWrite : beginRead).execute();
        for (Request<?> request : batch) {
            runOne(request);
        }
        commit.execute();
    }

    private <T> void runOne(Request<T> request) throws SQLException {
        try {
            request.result = request.run(connection);
        } catch (RuntimeException e) {
            // why: a request that throws (a bug, an argument no statement can bind) must fail
            // alone, as a failed statement does; escaping, it ended this thread, and with it every
            // later claim and enqueue of a daemon that still said it was ready.
            throw new SQLException(e.toString(), e);
        }
    }

    private void rollbackQuietly() {
        try {
            control.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // no transaction was open (BEGIN itself failed)
        }
        try {
            closeControl();
            prepareControl();
        } catch (SQLException e) {
            log.atDebug().addKeyValue("event", "jobs.problem")
                    .log("preparing BEGIN/COMMIT again: {}", e.toString());
        }
    }

    private void prepareControl() throws SQLException {
        beginWrite = connection.prepareStatement("BEGIN IMMEDIATE");
        beginRead = connection.prepareStatement("BEGIN DEFERRED");
        commit = connection.prepareStatement("COMMIT");
    }

    private void closeControl() throws SQLException {
        for (PreparedStatement statement : new PreparedStatement[]{beginWrite, beginRead, commit}) {
            if (statement != null) {
                statement.close();
            }
        }
    }

    private static boolean isBusy(SQLException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("SQLITE_BUSY") || message.contains("database is locked");
    }

    private void shutDown() {
        Request<?> left;
        while ((left = queue.poll()) != null) {
            left.fail(new JobStoreException(JobStoreException.Kind.FAILED, "the job store is closed"));
        }
        try {
            closeControl();
            control.close();
            connection.close();
        } catch (SQLException e) {
            log.atWarn().addKeyValue("event", "jobs.problem")
                .log("closing the job store: {}", e.toString());
        }
        closed.tryComplete();
    }
}
