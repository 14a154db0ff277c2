package io.shieldpool.jobs;

import java.util.Set;

/**
 * What {@link JobStore#completeAll} did with each ack, by job id: {@code landed} (the job is done),
 * {@code failed} (the store could not say: the job stays running under this owner and is recovered
 * or rescued later; {@code failure} says why); any other job of the request was fenced (that
 * attempt no longer held the job).
 */
public record AckResults(Set<Long> landed, Set<Long> failed, Throwable failure) {

    public AckResults {
        landed = Set.copyOf(landed);
        failed = Set.copyOf(failed);
        if (!failed.isEmpty() && failure == null) {
            throw new IllegalArgumentException("failed acks need their failure");
        }
    }
}
