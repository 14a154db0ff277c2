package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.AckResults;
import io.shieldpool.jobs.Job;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Group commit of acks: an ack that arrives while {@code maxInFlight} batches are being written
 * waits for the next batch, which takes every ack waiting by then (up to {@code maxBatch}) in one
 * statement and one commit. An ack alone is written at once; under load one WAL flush covers many
 * acks. why two batches in flight, not one: on a queue with a concurrency limit a slot is free
 * only once its ack has landed, and an ack that waited behind a whole batch held it that much
 * longer; with a second connection for acks, a lone ack goes at once. why: one
 * commit per ack made a daemon's throughput the rate at which the server flushes commits (and
 * the round trips each costs), far below what one node's workers can do (issue 17, P1).
 *
 * <p>Each ack still gets its own answer (true: it landed; false: fenced, it matched no row) from
 * the set of ids the writer reports as moved; a group of acks ({@link #addAll}) gets them all in one
 * answer. A job is in at most one batch being written: a
 * second ack of the same job waits until the first one's batch is answered, so the first lands
 * and the second finds the row moved and is rejected, as a second ack must be.
 *
 * <p>Confined to the store's context: not thread-safe, and the writer's futures must complete there.
 */
final class AckBatches {

    private final int maxBatch;
    private final int maxInFlight;
    private final Function<List<Job>, Future<Set<Long>>> writer;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private int writing;
    /** The jobs of the batches being written: a second ack of one waits until that batch is answered. */
    private final Set<Long> idsInFlight = new HashSet<>();
    private boolean heldForTest;
    private long batchesWritten;
    private int largestBatch;

    /**
     * @param maxBatch    most acks in one statement
     * @param maxInFlight most batches being written at once (each on its own pooled connection)
     * @param writer      writes one batch (retrying as the store does) and answers the ids of the jobs whose ack landed
     */
    AckBatches(int maxBatch, int maxInFlight, Function<List<Job>, Future<Set<Long>>> writer) {
        if (maxBatch < 1 || maxInFlight < 1) {
            throw new IllegalArgumentException("maxBatch, maxInFlight: " + maxBatch + ", " + maxInFlight + " (expected: >= 1)");
        }
        this.maxBatch = maxBatch;
        this.maxInFlight = maxInFlight;
        this.writer = writer;
    }

    /** Queues the ack of {@code job}; the future says whether it landed (false: fenced). */
    Future<Boolean> add(Job job) {
        return addAll(List.of(job)).compose(results -> results.failed().isEmpty()
                ? Future.succeededFuture(results.landed().contains(job.id())) : Future.failedFuture(results.failure()));
    }

    /**
     * Queues the acks of {@code jobs} (distinct jobs) as one group, answered once every one of
     * them has been written (they may land in different batches): which landed, which failed.
     */
    Future<AckResults> addAll(List<Job> jobs) {
        if (jobs.isEmpty()) {
            return Future.succeededFuture(new AckResults(Set.of(), Set.of(), null));
        }
        Group group = new Group(jobs.size());
        for (Job job : jobs) {
            waiting.add(new Waiting(job, group));
        }
        writeIfIdle();
        return group.promise.future();
    }

    private void writeIfIdle() {
        while (writing < maxInFlight && !heldForTest && !waiting.isEmpty()) {
            if (!writeNext()) {
                return;
            }
        }
    }

    /** Writes the next batch; false when every waiting ack is of a job in a batch being written. */
    private boolean writeNext() {
        List<Waiting> batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
        for (Iterator<Waiting> it = waiting.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
            Waiting next = it.next();
            if (idsInFlight.add(next.job().id())) {
                batch.add(next);
                it.remove();
            }
        }
        if (batch.isEmpty()) {
            return false; // only repeated acks of jobs whose batch is being written: they wait for it
        }
        writing++;
        batchesWritten++;
        largestBatch = Math.max(largestBatch, batch.size());
        Future<Set<Long>> written;
        try {
            written = writer.apply(batch.stream().map(Waiting::job).toList());
        } catch (RuntimeException e) {
            written = Future.failedFuture(e);
        }
        written.onComplete(ar -> {
            writing--;
            batch.forEach(ack -> idsInFlight.remove(ack.job().id()));
            answer(batch, ar);
            writeIfIdle();
        });
        return true;
    }

    private static void answer(List<Waiting> batch, AsyncResult<Set<Long>> ar) {
        for (Waiting ack : batch) {
            ack.group().answer(ack.job().id(), ar);
        }
    }

    /** Tests: acks queue up and nothing is written until {@link #resumeForTest}. */
    void holdForTest() {
        heldForTest = true;
    }

    /** Tests: writes what queued up while held, in batches as usual. */
    void resumeForTest() {
        heldForTest = false;
        writeIfIdle();
    }

    /** Batches (statements) written so far. */
    long batchesWritten() {
        return batchesWritten;
    }

    /** The most acks one batch held so far. */
    int largestBatch() {
        return largestBatch;
    }

    private record Waiting(Job job, Group group) {
    }

    /** The acks of one request: answered as a whole once the last of them has been written. */
    private static final class Group {
        private final Promise<AckResults> promise = Promise.promise();
        private final Set<Long> landed = new HashSet<>();
        private Set<Long> failed = Set.of();
        private Throwable failure;
        private int unanswered;

        Group(int size) {
            unanswered = size;
        }

        void answer(long id, AsyncResult<Set<Long>> ar) {
            if (ar.failed()) {
                if (failed.isEmpty()) {
                    failed = new HashSet<>();
                }
                failed.add(id);
                failure = ar.cause();
            } else if (ar.result().contains(id)) {
                landed.add(id);
            }
            if (--unanswered == 0) {
                promise.complete(new AckResults(landed, failed, failure));
            }
        }
    }
}
