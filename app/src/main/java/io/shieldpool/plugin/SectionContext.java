package io.shieldpool.plugin;

import com.typesafe.config.Config;
import io.vertx.core.Vertx;
import org.slf4j.Logger;

/**
 * What a plug-in's section knows about itself and what it can tell shieldpool. One context per
 * section; its methods may be called from the section's own thread (the event loop for
 * {@link AsyncSectionPlugin}, the virtual thread for {@link BlockingSectionPlugin}) or any other.
 * After the section has ended, calls are ignored.
 */
public interface SectionContext {

    /**
     * The worker running this section.
     *
     * @return the worker's id, stable for its life
     */
    long workerId();

    /**
     * This section.
     *
     * @return the section's id, unique within this run of the daemon
     */
    long sectionId();

    /**
     * The plug-in's settings: the subtree {@code shieldpool.work.<type>} of the configuration, as
     * of this section's start (a reload changes it for sections that start later, never for one in
     * flight). Empty when the file has none; read it with Typesafe Config's getters.
     *
     * @return the settings subtree, immutable
     */
    Config config();

    /**
     * Records that one more step of this section has finished. Status output shows "step i of n",
     * the metrics count busy workers by step, and a section that reports no progress for long is
     * visible as stuck. Cheap; call it after each unit of work.
     */
    void stepDone();

    /**
     * Steps reported so far by {@link #stepDone()}.
     *
     * @return steps finished in this section
     */
    int stepsDone();

    /**
     * Says how many steps this section takes, when it learns that only once running (otherwise
     * {@link SectionPlugin#stepsPerSection()} is used).
     *
     * @param total the section's number of steps, >= 0 (0: unknown)
     */
    void stepsTotal(int total);

    /**
     * Whether the daemon has been asked to stop (SIGTERM, SIGINT) since this section began. A
     * section is never cut by a stop request: it runs to its end, and that is the default. A long
     * section that can end early without harm may check this at its safe points and return then;
     * how it ends (completed or failed) is its own choice.
     *
     * @return true once a shutdown has begun
     */
    boolean stopRequested();

    /**
     * Whether this section has passed {@code shieldpool.work.timeout}. An asynchronous section is
     * then already counted as {@code timed_out} and whatever it does from now on is not counted; a
     * blocking section has been interrupted and is counted as {@code timed_out} when its method
     * returns, so it should return as soon as it sees this.
     *
     * @return true once the section has timed out
     */
    boolean timedOut();

    /**
     * A logger for this section: every line it writes carries {@code worker} and {@code section}
     * in its MDC (fields of the JSON output, like the daemon's own section lines), on any thread.
     *
     * @return the section's logger
     */
    Logger logger();

    /**
     * The daemon's Vert.x instance, for clients, timers and futures. Do not close it.
     *
     * @return the shared Vert.x instance
     */
    Vertx vertx();

    /**
     * The job this section runs, when the daemon takes its sections from a job store; empty
     * without one ({@code shieldpool.jobs.store = none}). Complete the section to acknowledge the
     * job; fail it (or throw) to have it retried later, and dead after its last attempt.
     *
     * @return the job, or empty
     */
    default java.util.Optional<SectionJob> job() {
        return java.util.Optional.empty();
    }
}
