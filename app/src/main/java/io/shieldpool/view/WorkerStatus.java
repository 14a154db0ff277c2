package io.shieldpool.view;

/**
 * One worker as status output shows it.
 *
 * @param id              the worker's id
 * @param state           what it is doing
 * @param section         its current section's id (0 when not in a section)
 * @param stepsDone       steps finished in the current section
 * @param elapsedMs       time since the current section began (0 when not in a section)
 * @param sinceProgressMs time since the section began or last finished a step (0 when not in a section)
 * @param stepsTotal      steps the current section's work takes, when known in advance (else 0)
 */
public record WorkerStatus(long id, WorkerState state, long section, int stepsDone, long elapsedMs,
                           long sinceProgressMs, int stepsTotal) {

    /** A status whose work does not say how many steps its sections take. */
    public WorkerStatus(long id, WorkerState state, long section, int stepsDone, long elapsedMs, long sinceProgressMs) {
        this(id, state, section, stepsDone, elapsedMs, sinceProgressMs, 0);
    }
}
