package io.shieldpool.jobs;

import java.util.List;

/**
 * What {@link JobStore#completeAndClaim} did: whether the ack landed (false: fenced, that attempt
 * no longer held the job), and the jobs claimed in the acked job's place (none, or one).
 *
 * @param completed the ack landed
 * @param next      the jobs claimed in the same transaction, running under the store's owner
 */
public record Handoff(boolean completed, List<Job> next) {

    public Handoff {
        next = List.copyOf(next);
    }
}
