package io.shieldpool.jobs;

import java.util.List;

/**
 * What {@link JobStore#completeAndClaim} did: whether the ack landed (false: fenced, that attempt
 * no longer held the job) and the job claimed in its place, if any (at most one).
 */
public record Handoff(boolean acked, List<Job> next) {

    public Handoff {
        next = List.copyOf(next);
    }
}
