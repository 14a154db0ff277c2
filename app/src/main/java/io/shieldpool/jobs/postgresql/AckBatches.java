package io.shieldpool.jobs.postgresql;

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
 * Group commit of acks: an ack that arrives while a batch is being written waits for the next
 * batch, which takes every ack waiting by then (up to {@code maxBatch}) in one statement and one
 * commit. An ack alone is written at once; under load one WAL flush covers many acks. why: one
 * commit per ack made a daemon's throughput the rate at which the server flushes commits (and
 * the round trips each costs), far below what one node's workers can do (issue 17, P1).
 *
 * <p>Each ack still gets its own answer (true: it landed; false: fenced, it matched no row) from
 * the set of ids the writer reports as moved. A batch holds each job at most once: a second ack
 * of the same job waits for the next batch, where the first one has already moved the row, so it
 * is rejected as a second ack must be.
 *
 * <p>Confined to the store's context: not thread-safe, and the writer's futures must complete there.
 */
final class AckBatches {

    private final int maxBatch;
    private final Function<List<Job>, Future<Set<Long>>> writer;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private boolean writing;
    private boolean heldForTest;
    private long batchesWritten;
    private int largestBatch;

    /**
     * @param maxBatch most acks in one statement
     * @param writer   writes one batch (retrying as the store does) and answers the ids of the jobs whose ack landed
     */
    AckBatches(int maxBatch, Function<List<Job>, Future<Set<Long>>> writer) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch: " + maxBatch + " (expected: >= 1)");
        }
        this.maxBatch = maxBatch;
        this.writer = writer;
    }

    /** Queues the ack of {@code job}; the future says whether it landed (false: fenced). */
    Future<Boolean> add(Job job) {
        Promise<Boolean> promise = Promise.promise();
        waiting.add(new Waiting(job, promise));
        writeIfIdle();
        return promise.future();
    }

    private void writeIfIdle() {
        if (!writing && !heldForTest && !waiting.isEmpty()) {
            writeNext();
        }
    }

    private void writeNext() {
        List<Waiting> batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
        Set<Long> ids = new HashSet<>();
        for (Iterator<Waiting> it = waiting.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
            Waiting next = it.next();
            if (ids.add(next.job().id())) {
                batch.add(next);
                it.remove();
            }
        }
        writing = true;
        batchesWritten++;
        largestBatch = Math.max(largestBatch, batch.size());
        Future<Set<Long>> written;
        try {
            written = writer.apply(batch.stream().map(Waiting::job).toList());
        } catch (RuntimeException e) {
            written = Future.failedFuture(e);
        }
        written.onComplete(ar -> {
            writing = false;
            answer(batch, ar);
            writeIfIdle();
        });
    }

    private static void answer(List<Waiting> batch, AsyncResult<Set<Long>> ar) {
        for (Waiting ack : batch) {
            if (ar.succeeded()) {
                ack.promise().complete(ar.result().contains(ack.job().id()));
            } else {
                ack.promise().fail(ar.cause());
            }
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

    private record Waiting(Job job, Promise<Boolean> promise) {
    }
}
