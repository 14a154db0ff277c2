package io.shieldpool.view;


import java.util.List;
import java.util.Optional;

/**
 * The pool at one moment, as status, metrics and systemd report it.
 *
 * @param state       lifecycle state
 * @param desiredSize the size the configuration (or a run-time override) asks for
 * @param totals      section counts over the whole run, and workers/busy right now
 * @param drain       drain progress, present from the first instant of a drain
 * @param workers     the first workers by id (as many as were asked for)
 * @param configVersion  1 for the configuration the daemon started with, plus one per applied reload
 * @param workType       the work's type, as metrics label it ("demo")
 * @param workerRestarts workers replaced after their loop died, over the whole run
 * @param census         every worker counted by state, and the busy ones by step
 * @param durations      how long the sections that ended took
 */
public record PoolStatus(LifecycleState state, int desiredSize, ShardSnapshot totals, Optional<DrainProgress> drain,
                         List<WorkerStatus> workers, long configVersion, String workType, long workerRestarts,
                         WorkerCensus census, SectionDurationSnapshot durations) {


    /**
     * @param signal       what started the drain ("SIGTERM")
     * @param sectionsLeft sections still in flight
     * @param elapsedMs    time since the drain began
     * @param graceLeftMs  time left before the grace cap cuts what remains (0 once spent)
     */
    public record DrainProgress(String signal, long sectionsLeft, long elapsedMs, long graceLeftMs) {
    }
}
