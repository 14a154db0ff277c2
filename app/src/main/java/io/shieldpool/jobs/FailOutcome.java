package io.shieldpool.jobs;

import java.time.Instant;
import java.util.Optional;

/**
 * What a store did with a failed attempt.
 *
 * @param state         {@link JobState#READY} (to retry at {@code nextAttemptAt}) or {@link JobState#DEAD};
 *                      empty when the failure was rejected because the attempt no longer holds the job
 * @param nextAttemptAt when the retry may run, for READY
 */
public record FailOutcome(Optional<JobState> state, Optional<Instant> nextAttemptAt) {

    public static final FailOutcome FENCED = new FailOutcome(Optional.empty(), Optional.empty());

    public static FailOutcome retryAt(Instant at) {
        return new FailOutcome(Optional.of(JobState.READY), Optional.of(at));
    }

    public static final FailOutcome DEAD = new FailOutcome(Optional.of(JobState.DEAD), Optional.empty());

    /** Whether the attempt still held the job, so the failure was recorded. */
    public boolean recorded() {
        return state.isPresent();
    }
}
