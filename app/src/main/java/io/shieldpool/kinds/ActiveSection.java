package io.shieldpool.kinds;

/**
 * The section a worker is running, as the work sees it. Every method must be called on the
 * worker's thread (the one {@link Work#begin} and {@link Continuation#resume} run on).
 */
public interface ActiveSection {

    /** The worker running this section (stable for the worker's life). */
    long workerId();

    /** The section's id, unique within this run of the daemon. */
    long sectionId();

    /** Steps finished so far in this section. */
    int stepsDone();

    /** Records that one more step has finished (status, watchdog and logs use it). */
    void stepDone();

    /**
     * Runs {@code next} on this worker's thread after {@code delayNanos} (0 = yield to the
     * scheduler and run as soon as other ready workers have had their turn).
     */
    void resumeAfter(long delayNanos, Continuation next);

    /** Ends the section as completed. Only the first end call counts. */
    void complete();

    /** Ends the section as failed; the worker backs off before its next section. */
    void fail(Throwable cause);

    /**
     * Ends the section as timed out ({@code work.timeout} passed): counted and logged like a
     * failure, with the backoff. Only the first end call counts.
     */
    void timeOut(String reason);

    /** Says how many steps this section takes, when the work learns it only once running. */
    void stepsTotal(int total);

    /** {@link System#nanoTime()} when this section began. */
    long sectionStartNanos();

    /** Whether a shutdown has begun (the gate is closed); safe to call from any thread. */
    boolean stopRequested();

    /**
     * The job this section runs, when the pool takes its sections from a job store
     * ({@code shieldpool.jobs.store}); null without jobs. Its id and attempt make side effects
     * idempotent: delivery is at least once.
     */
    default io.shieldpool.jobs.Job job() {
        return null;
    }
}
