package io.shieldpool.pool;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.runtime.JobFeed;
import io.shieldpool.view.WorkerStatus;

import io.shieldpool.view.WorkerState;

import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Continuation;
import io.shieldpool.kinds.Work;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker: a light loop (a few fields, no thread, no verticle) living on its shard's event
 * loop. It admits a section through the shard's {@link StopGate}, lets the {@link Work} run it to
 * its end, and repeats. A stop request is only ever seen at admission, between sections: nothing
 * reaches into a section once it has begun. All methods run on the shard's thread.
 */
final class Worker implements ActiveSection {

    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    /** Continuation that starts the next section; used between sections and after a backoff. */
    private static final Continuation NEXT_SECTION = section -> ((Worker) section).nextSection();

    final long id;
    private final Shard shard;
    /** This worker's index in its shard's roster; kept by the shard. */
    int slot;

    private WorkerState state = WorkerState.IDLE;
    private Work work;
    /** What to run when this worker is next resumed from the ready queue or a delay line; set by the shard. */
    Continuation parked;
    private long sectionId;
    private int stepsDone;
    /** Steps the current section said it takes (0: as its work says, {@link Work#stepsPerSection()}). */
    private int stepsTotal;
    private long sectionStartNanos;
    private long lastProgressNanos;
    private int consecutiveFailures;
    /** Set by a shrink: leave the pool after the current section instead of starting another. */
    private boolean retiring;
    /** The current section's job, with a job store; null without one. */
    private Job job;
    /** Wakes this worker parked in its shard's job feed. */
    private final Runnable jobArrived;

    Worker(long id, Shard shard) {
        this.id = id;
        this.shard = shard;
        this.jobArrived = () -> shard.ready(this, NEXT_SECTION);
    }

    WorkerState state() {
        return state;
    }

    /** Starts the loop (called once, on the shard's thread). */
    void start() {
        if (log.isDebugEnabled()) {
            log.atDebug().addKeyValue("event", "worker.started").addKeyValue("worker", id)
                    .addKeyValue("shard", shard.index()).log("worker {} started", id);
        }
        shard.ready(this, NEXT_SECTION);
    }

    boolean isRetiring() {
        return retiring;
    }

    /**
     * Takes this worker out of the pool: at once if it is between sections, else after its
     * current section ends (the shield holds: a shrink never cuts a section).
     */
    void retire() {
        if (state == WorkerState.STOPPED) {
            return;
        }
        retiring = true;
        if (state != WorkerState.BUSY && state != WorkerState.ABANDONED) {
            leave();
        }
    }

    /** Cancels a pending retirement (a grow that follows a shrink reuses the worker). */
    boolean keep() {
        if (!retiring || state == WorkerState.STOPPED) {
            return false;
        }
        retiring = false;
        return true;
    }

    private void leave() {
        stop();
        log.atInfo().addKeyValue("event", "worker.retired").addKeyValue("worker", id)
                .log("worker {} retired", id);
    }

    /** Runs what this worker was waiting for; called by the shard's scheduler. */
    void resumeParked() {
        assert shard.onItsThread() : "worker " + id + " resumed off its shard's event loop";
        Continuation next = parked;
        parked = null;
        if (state == WorkerState.STOPPED) {
            return; // retired while it waited: the wait's continuation is moot
        }
        try {
            next.resume(this);
        } catch (Exception e) {
            if (state == WorkerState.BUSY) {
                fail(e);
            } else {
                stop();
                shard.listener().workerDied(shard, id, e);
            }
        } catch (Throwable fatal) {
            // why: an Error (assertion, linkage, stack overflow) leaves this loop's state suspect;
            // end the section as failed and let the supervisor start a fresh worker instead.
            if (state == WorkerState.BUSY) {
                endSection(SectionOutcome.FAILED, fatal, -1);
            }
            stop();
            shard.listener().workerDied(shard, id, fatal);
        }
    }

    private void nextSection() {
        state = WorkerState.IDLE;
        if (retiring) {
            leave();
            return;
        }
        JobFeed feed = shard.jobs();
        Job next = null;
        if (feed != null) {
            next = feed.take();
            if (next == null) {
                // Idle, not busy: parked in the feed until a claim brings jobs or a stop closes it.
                if (!feed.waitFor(jobArrived)) {
                    stop();
                }
                return;
            }
        }
        // The admission point: the only place a section begins (the shard counts it as started).
        if (!shard.admit()) {
            if (next != null) {
                feed.giveBack(next);
            }
            stop();
            return;
        }
        job = next;
        state = WorkerState.BUSY;
        work = shard.work();
        sectionId = shard.nextSectionId();
        stepsDone = 0;
        stepsTotal = 0; // why: a store, not a call per section; status falls back to work.stepsPerSection()
        sectionStartNanos = System.nanoTime();
        lastProgressNanos = sectionStartNanos;
        if (log.isDebugEnabled()) {
            log.atDebug().addKeyValue("event", "section.start").addKeyValue("worker", id)
                    .addKeyValue("section", sectionId).addKeyValue("shard", shard.index())
                    .log("worker {} section {}: start", id, sectionId);
        }
        work.begin(this);
    }

    private void stop() {
        state = WorkerState.STOPPED;
        shard.remove(this);
    }

    // ---- ActiveSection: what the work sees ----

    @Override
    public long workerId() {
        return id;
    }

    @Override
    public long sectionId() {
        return sectionId;
    }

    @Override
    public int stepsDone() {
        return stepsDone;
    }

    @Override
    public void stepDone() {
        assert shard.onItsThread() : "worker " + id + ": section ended or resumed off its shard's event loop";
        stepsDone++;
        lastProgressNanos = System.nanoTime();
    }

    @Override
    public void stepsTotal(int total) {
        assert shard.onItsThread() : "worker " + id + ": section ended or resumed off its shard's event loop";
        stepsTotal = Math.max(0, total);
    }

    @Override
    public long sectionStartNanos() {
        return sectionStartNanos;
    }

    @Override
    public boolean stopRequested() {
        return shard.stopRequested();
    }

    @Override
    public void resumeAfter(long delayNanos, Continuation next) {
        assert shard.onItsThread() : "worker " + id + ": section ended or resumed off its shard's event loop";
        if (delayNanos <= 0) {
            shard.ready(this, next);
        } else {
            shard.later(this, delayNanos, next);
        }
    }

    @Override
    public Job job() {
        return job;
    }

    @Override
    public void complete() {
        assert shard.onItsThread() : "worker " + id + ": section ended or resumed off its shard's event loop";
        if (state != WorkerState.BUSY) {
            return;
        }
        consecutiveFailures = 0;
        endSection(SectionOutcome.COMPLETED, null, 0);
        if (retiring) {
            leave();
        } else {
            shard.ready(this, NEXT_SECTION);
        }
    }

    @Override
    public void fail(Throwable cause) {
        assert shard.onItsThread() : "worker " + id + ": section ended or resumed off its shard's event loop";
        endUnsuccessfully(SectionOutcome.FAILED, cause);
    }

    @Override
    public void timeOut(String reason) {
        assert shard.onItsThread() : "worker " + id + ": section ended or resumed off its shard's event loop";
        endUnsuccessfully(SectionOutcome.TIMED_OUT, new SectionTimeout(reason));
    }

    private void endUnsuccessfully(SectionOutcome outcome, Throwable cause) {
        if (state != WorkerState.BUSY) {
            return;
        }
        consecutiveFailures++;
        long pauseNanos = retiring ? -1 : shard.backoff().delayNanos(id, consecutiveFailures);
        endSection(outcome, cause, pauseNanos);
        if (retiring) {
            leave();
            return;
        }
        state = WorkerState.BACKOFF;
        shard.later(this, pauseNanos, NEXT_SECTION);
    }

    /** @param pauseNanos the backoff before the next section, or -1 when this loop ends here */
    private void endSection(SectionOutcome outcome, Throwable cause, long pauseNanos) {
        state = WorkerState.IDLE;
        // why: a clock read costs ~30 ns, a fifth of a no-op section; a work that reports steps
        // reports its last one just before completing, so that reading is reused. A failure is
        // rare (and logs anyway), and a work that reports no steps leaves nothing to reuse.
        long endNanos = outcome == SectionOutcome.COMPLETED && stepsDone > 0 ? lastProgressNanos : System.nanoTime();
        if (outcome == SectionOutcome.COMPLETED) {
            if (log.isDebugEnabled()) {
                logEnd(outcome, null, 0);
            }
        } else {
            // why: a failure is logged exactly once, as this section.end line at WARN.
            logEnd(outcome, cause, pauseNanos);
        }
        if (job != null) {
            // why before the shard counts the section ended: the ack is queued (to the feed, which
            // sends a turn's acks together, or to the store) before the drain can see this section
            // as ended, so the store's close (which flushes the feeds first) commits it.
            if (outcome == SectionOutcome.COMPLETED) {
                shard.jobs().completed(job);
            } else {
                shard.jobs().failed(job, cause);
            }
            job = null;
        }
        shard.sectionEnded(outcome, endNanos - sectionStartNanos);
    }

    private void logEnd(SectionOutcome outcome, Throwable cause, long pauseNanos) {
        long elapsedMs = (System.nanoTime() - sectionStartNanos) / 1_000_000;
        var event = (cause == null ? log.atDebug() : log.atWarn())
                .addKeyValue("event", "section.end").addKeyValue("worker", id)
                .addKeyValue("section", sectionId).addKeyValue("outcome", outcome.label())
                .addKeyValue("step", stepsDone).addKeyValue("elapsed_ms", elapsedMs);
        if (cause == null) {
            event.log("worker {} section {}: {} in {} ms", id, sectionId, outcome.label(), elapsedMs);
        } else {
            String reason = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
            event.addKeyValue("error", reason)
                    .log("worker {} section {}: {} after step {} ({} ms): {}; {}",
                            id, sectionId, outcome == SectionOutcome.TIMED_OUT ? "timed out" : "failed", stepsDone, elapsedMs, reason,
                            nextTry(pauseNanos));
        }
    }

    /** What follows a failed section: a retiring worker leaves, a draining pool starts nothing new. */
    private String nextTry(long pauseNanos) {
        if (pauseNanos < 0) {
            return "no next try by this worker";
        }
        if (shard.stopRequested()) {
            // why: the stop gate is closed, so the worker stops at its next admission: no next try.
            return "no next try: draining";
        }
        return "next try in " + pauseNanos / 1_000_000 + " ms";
    }

    /**
     * Marks a section in flight as cut by the grace cap; logs it once.
     *
     * @return true if this worker was in a section
     */
    boolean abandon(long nowNanos) {
        if (state != WorkerState.BUSY) {
            return false;
        }
        state = WorkerState.ABANDONED;
        if (job != null) {
            shard.jobs().abandoned(job);
            job = null;
        }
        long elapsedMs = (nowNanos - sectionStartNanos) / 1_000_000;
        log.atError().addKeyValue("event", "section.abandoned").addKeyValue("worker", id)
                .addKeyValue("section", sectionId).addKeyValue("step", stepsDone)
                .addKeyValue("elapsed_ms", elapsedMs)
                .log("worker {} section {}: abandoned when the drain was cut, after step {} ({} ms into the section)",
                        id, sectionId, stepsDone, elapsedMs);
        return true;
    }

    /** When the current section began or last finished a step (System.nanoTime). */
    long lastProgressNanos() {
        return lastProgressNanos;
    }

    WorkerStatus status(long nowNanos) {
        boolean inSection = state == WorkerState.BUSY;
        WorkerState shown = inSection && retiring ? WorkerState.RETIRING : state;
        return new WorkerStatus(id, shown, inSection ? sectionId : 0, inSection ? stepsDone : 0,
                inSection ? (nowNanos - sectionStartNanos) / 1_000_000 : 0,
                inSection ? (nowNanos - lastProgressNanos) / 1_000_000 : 0,
                inSection ? (stepsTotal > 0 ? stepsTotal : work.stepsPerSection()) : 0);
    }

    /** Why a section timed out; carries no stack trace, the section.end line says it all. */
    static final class SectionTimeout extends RuntimeException {
        SectionTimeout(String message) {
            super(message, null, false, false);
        }
    }
}
