package io.shieldpool.kinds.http;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * {@code work.http.max-rate} across the whole pool: requests start (take a pooled connection, then
 * send) at least 1/rate apart, and requests are also written at least 1/rate apart
 * ({@link #awaitWrite}), so any window of length W holds at most W x rate + 1 of them even when
 * connection set-ups end together. No burst credit builds up while idle: the
 * point is to never overload the target. Shared by every shard; the lock is held only to update
 * the line, never while a turn runs.
 *
 * <p>Sections wait in one first-in, first-out line, and a turn is handed to the head only when it
 * is due. why: nothing is booked ahead of time, so a section that leaves the line (its
 * {@code work.timeout} passed while it waited) takes no slot with it; booking slots in advance made
 * the bookings outgrow the sends until every section timed out in line. A turn that is handed out
 * to a section that has just ended can be given back, so no slot goes unused either.
 */
final class RateLimit {

    /** Runs a task after a delay; the daemon's is a Vert.x timer, tests drive their own clock. */
    interface Scheduler {
        void schedule(long delayNanos, Runnable task);
    }

    private final LongSupplier clock;
    private final Scheduler scheduler;
    private final ArrayDeque<Turn> line = new ArrayDeque<>();
    /** Written under the lock; volatile for {@link #unlimited}'s look without it. */
    private volatile long intervalNanos;
    private long lastSentNanos;
    /** When the last request was written (see {@link #awaitWrite}). */
    private long lastWrittenNanos;
    /** Requests whose turn came, waiting to be written, first in first out. */
    private final ArrayDeque<PendingWrite> writes = new ArrayDeque<>();
    private boolean writeTimerArmed;
    /** Only the timer armed last hands out turns: a rate change re-arms it. */
    private long timerGeneration;
    private boolean timerArmed;

    RateLimit(double perSecond, LongSupplier clock, Scheduler scheduler) {
        this.clock = clock;
        this.scheduler = scheduler;
        this.lastSentNanos = clock.getAsLong() - (1L << 60);
        this.lastWrittenNanos = lastSentNanos;
        this.intervalNanos = interval(perSecond);
    }

    /** A reload's new rate applies at once, to the sections already waiting too; 0 lifts the limit. */
    void setRate(double perSecond) {
        List<Turn> due;
        synchronized (this) {
            intervalNanos = interval(perSecond);
            timerArmed = false;
            timerGeneration++;
            due = dueTurns();
        }
        due.forEach(Turn::go);
    }

    /**
     * Joins the line. {@code onTurn} runs once, when the request may be sent: at once on this
     * thread if it may go now, else later on the scheduler's thread. Once it has run the send
     * counts as made: call {@link Turn#giveBack()} if the section no longer sends.
     */
    Turn await(Consumer<Turn> onTurn) {
        Turn turn = new Turn(onTurn);
        List<Turn> due;
        synchronized (this) {
            line.addLast(turn);
            due = dueTurns();
        }
        due.forEach(Turn::go);
        return turn;
    }

    /**
     * Runs {@code write} when a request whose turn came may be written (or, without taking a
     * write's place, once {@code wanted} says it is no longer wanted): at once on this thread if
     * the last write was 1/rate ago and nobody waits, else later on the scheduler's thread, in the
     * order asked. why: a turn is handed out before the connection is taken; when several sections
     * must first open a connection (a cold start, a grown pool) their set-ups end together and,
     * written at once, their requests would reach the server as a burst above max-rate. why one
     * line with one timer, each write counted when it is made: writes booked for later moments,
     * each with its own timer, fired together after an event-loop stall and reached the server as
     * a burst (5 requests in 74 ms at max-rate 10 under load).
     */
    void awaitWrite(BooleanSupplier wanted, Runnable write) {
        boolean now;
        synchronized (this) {
            long at = clock.getAsLong();
            now = intervalNanos == 0 || (writes.isEmpty() && at - lastWrittenNanos >= intervalNanos);
            if (now) {
                lastWrittenNanos = at;
            } else {
                writes.addLast(new PendingWrite(wanted, write));
                armWriteTimer();
            }
        }
        if (now) {
            write.run();
        }
    }

    /** Under the lock: one timer for the head of the write line, due 1/rate after the last write. */
    private void armWriteTimer() {
        if (writeTimerArmed || writes.isEmpty()) {
            return;
        }
        writeTimerArmed = true;
        scheduler.schedule(Math.max(0, lastWrittenNanos + intervalNanos - clock.getAsLong()), this::onWriteTimer);
    }

    private void onWriteTimer() {
        List<Runnable> due = new ArrayList<>(1);
        List<Turn> turns;
        synchronized (this) {
            writeTimerArmed = false;
            long at = clock.getAsLong();
            if (intervalNanos == 0) {
                writes.forEach(w -> due.add(w.write())); // the limit was lifted by a reload: all go
                writes.clear();
            } else {
                // why: a request no longer wanted (its section timed out in this line) leaves
                // without taking a write's place; counted as written, such requests kept the line
                // as long as it was, since turns come at the same rate as writes, so that every
                // later request waited past its work.timeout too (HttpWorkIT, max-rate 10).
                while (!writes.isEmpty() && !writes.peekFirst().wanted().getAsBoolean()) {
                    due.add(writes.removeFirst().write());
                }
                if (!writes.isEmpty() && at - lastWrittenNanos >= intervalNanos) {
                    due.add(writes.removeFirst().write());
                    lastWrittenNanos = at;
                }
            }
            armWriteTimer();
            turns = writes.isEmpty() ? dueTurns() : List.of(); // the write line is empty: turns go on
        }
        due.forEach(Runnable::run);
        turns.forEach(Turn::go);
    }

    /** A request waiting to be written; {@code wanted} is false once its section has ended (any thread). */
    private record PendingWrite(BooleanSupplier wanted, Runnable write) {
    }

    /**
     * Whether no max-rate is set: a section may then send without joining the line. Any thread,
     * no lock. A rate set by a reload applies to the sections that start after it.
     */
    boolean unlimited() {
        return intervalNanos == 0;
    }

    /** Sections waiting now. */
    synchronized int waiting() {
        return line.size();
    }

    private static long interval(double perSecond) {
        return perSecond <= 0 ? 0 : (long) Math.ceil(1e9 / perSecond);
    }

    /** Under the lock: takes the turns due now off the line and arms the timer for the next one. */
    private List<Turn> dueTurns() {
        List<Turn> due = new ArrayList<>(1);
        long now = clock.getAsLong();
        // why not while requests wait to be written: a turn then opens a connection that waits in
        // the write line too, and since turns and writes come at the same rate a line formed once
        // (connection set-ups ending together after a stall, a cold start) never shrank: every
        // later request held its connection idle for as long (> 1 s in HttpWorkIT under load), and a
        // server with a short keep-alive timeout closed it. onWriteTimer goes on once it is empty.
        while (!line.isEmpty() && (intervalNanos == 0 || writes.isEmpty())) {
            long wait = intervalNanos == 0 ? 0 : lastSentNanos + intervalNanos - now;
            if (wait > 0) {
                if (!timerArmed) {
                    timerArmed = true;
                    long generation = ++timerGeneration;
                    scheduler.schedule(wait, () -> onTimer(generation));
                }
                break;
            }
            Turn head = line.removeFirst();
            head.granted(lastSentNanos, now);
            lastSentNanos = now;
            due.add(head);
        }
        return due;
    }

    private void onTimer(long generation) {
        List<Turn> due;
        synchronized (this) {
            if (generation != timerGeneration) {
                return;
            }
            timerArmed = false;
            due = dueTurns();
        }
        due.forEach(Turn::go);
    }

    /** One section's place in line. */
    final class Turn {
        private final Consumer<Turn> onTurn;
        /** Guarded by the rate limit's lock. */
        private boolean granted;
        private long sentBefore;
        private long sentAt;

        private Turn(Consumer<Turn> onTurn) {
            this.onTurn = onTurn;
        }

        private void granted(long previousSend, long now) {
            granted = true;
            sentBefore = previousSend;
            sentAt = now;
        }

        private void go() {
            onTurn.accept(this);
        }

        /**
         * Leaves the line: the section ended while it waited.
         *
         * @return false if the turn had already been handed out (then {@link #giveBack()} it)
         */
        boolean cancel() {
            synchronized (RateLimit.this) {
                return line.remove(this);
            }
        }

        /**
         * The turn was handed out but nothing was sent: the spacing goes back to the previous send,
         * unless another send has been made since, and the next section in line may go.
         */
        void giveBack() {
            List<Turn> due;
            synchronized (RateLimit.this) {
                if (!granted || lastSentNanos != sentAt) {
                    return;
                }
                lastSentNanos = sentBefore;
                granted = false;
                timerArmed = false;
                timerGeneration++;
                due = dueTurns();
            }
            due.forEach(Turn::go);
        }
    }
}
