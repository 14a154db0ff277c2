package io.shieldpool.pool;

import io.shieldpool.kinds.Continuation;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One shard's scheduler: ready workers run in batches, timed waits kept in {@link DelayLine}s, one
 * per distinct delay, behind a single Vert.x timer. Confined to the shard's event loop like the
 * shard itself (the shard asserts it before calling in).
 */
final class ShardScheduler {

    /** Most workers run per turn before yielding the event loop to timers and I/O. */
    private static final int BATCH = 4096;

    private final Vertx vertx;
    private final Context context;

    private final ArrayDeque<Worker> readyWorkers = new ArrayDeque<>();
    private boolean turnScheduled;

    private final List<DelayLine> delayLines = new ArrayList<>(4);
    private boolean armed;
    private long armedDeadline;

    ShardScheduler(Vertx vertx, Context context) {
        this.vertx = vertx;
        this.context = context;
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
}
