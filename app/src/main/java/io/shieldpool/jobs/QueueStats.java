package io.shieldpool.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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

    /**
     * Assembles the stats of every queue from a store's rows of (queue, state, count, run-at of the
     * oldest due ready job): every state present, 0 when no row names it; queues sorted by name.
     * Both stores' {@code stats} use it, so they agree on what a queue without rows shows.
     */
    public static final class Tally {
        private final Instant now;
        private final Map<String, EnumMap<JobState, Long>> counts = new LinkedHashMap<>();
        private final Map<String, Instant> oldest = new HashMap<>();

        /**
         * @param now         the time the oldest ready job's wait is measured to
         * @param alwaysShown queues listed even without any job (the daemon's own)
         */
        public Tally(Instant now, List<String> alwaysShown) {
            this.now = now;
            for (String queue : alwaysShown) {
                counts.put(queue, zeros());
            }
        }

        /** One row: {@code count} jobs of {@code queue} in {@code state}; the oldest due run-at, for ready rows. */
        public void add(String queue, JobState state, long count, Optional<Instant> oldestDueRunAt) {
            counts.computeIfAbsent(queue, q -> zeros()).put(state, count);
            oldestDueRunAt.ifPresent(at -> oldest.put(queue, at));
        }

        public List<QueueStats> result() {
            List<QueueStats> result = new ArrayList<>();
            counts.forEach((queue, byState) -> result.add(new QueueStats(queue, byState,
                    Optional.ofNullable(oldest.get(queue)).map(at -> Duration.ofMillis(Math.max(0,
                            now.toEpochMilli() - at.toEpochMilli()))))));
            result.sort(Comparator.comparing(QueueStats::queue));
            return result;
        }

        private static EnumMap<JobState, Long> zeros() {
            EnumMap<JobState, Long> map = new EnumMap<>(JobState.class);
            for (JobState state : JobState.values()) {
                map.put(state, 0L);
            }
            return map;
        }
    }
}
