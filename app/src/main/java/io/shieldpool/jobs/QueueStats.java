package io.shieldpool.jobs;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Counts of one queue.
 *
 * @param queue       the queue's name
 * @param byState     jobs in each state (every state present, 0 when none)
 * @param oldestReady how long the oldest due ready job has waited past its run-at, if any is due
 */
public record QueueStats(String queue, Map<JobState, Long> byState, Optional<Duration> oldestReady) {

    public QueueStats {
        byState = Map.copyOf(byState);
    }

    public long count(JobState state) {
        return byState.getOrDefault(state, 0L);
    }
}
