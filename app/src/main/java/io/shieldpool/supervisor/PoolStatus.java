package io.shieldpool.supervisor;

import io.shieldpool.lifecycle.LifecycleState;
import io.shieldpool.worker.ShardSnapshot;
import io.shieldpool.worker.WorkerStatus;

import java.util.List;
import java.util.Optional;

/**
 * The pool at one moment, as status, metrics and systemd report it.
 *
 * @param state       lifecycle state
 * @param desiredSize the size the configuration (or a run-time override) asks for
 * @param totals      section counts over the whole run, and workers/busy right now
 * @param drain       drain progress, present from the first instant of a drain
 * @param workers     the first workers (as many as were asked for)
 */
public record PoolStatus(LifecycleState state, int desiredSize, ShardSnapshot totals, Optional<DrainProgress> drain,
                         List<WorkerStatus> workers) {

    /**
     * @param signal       what started the drain ("SIGTERM")
     * @param sectionsLeft sections still in flight
     * @param elapsedMs    time since the drain began
     * @param graceLeftMs  time left before the grace cap cuts what remains (0 once spent)
     */
    public record DrainProgress(String signal, long sectionsLeft, long elapsedMs, long graceLeftMs) {
    }
}
