package io.shieldpool.view;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Every worker of a shard (or, summed, of the pool) counted by state, and the busy ones by the
 * step they are on: what a status page shows when there are too many workers to list.
 *
 * @param byState   workers per state (every state present, zeros included)
 * @param busyAtStep busy workers by steps done so far: entry {@code i} counts those that have done
 *                   {@code i} steps; the last entry also counts everything beyond it
 */
public record WorkerCensus(Map<WorkerState, Integer> byState, long[] busyAtStep) {

    /** Steps told apart in {@link #busyAtStep}; sections with more steps share the last entry. */
    public static final int STEP_BINS = 32;

    public static final WorkerCensus EMPTY = new WorkerCensus(zeros(), new long[1]);

    public WorkerCensus {
        byState = Map.copyOf(byState);
    }

    public int count(WorkerState state) {
        return byState.getOrDefault(state, 0);
    }

    public WorkerCensus plus(WorkerCensus other) {
        EnumMap<WorkerState, Integer> states = new EnumMap<>(WorkerState.class);
        for (WorkerState s : WorkerState.values()) {
            states.put(s, count(s) + other.count(s));
        }
        long[] steps = Arrays.copyOf(busyAtStep, Math.max(busyAtStep.length, other.busyAtStep.length));
        for (int i = 0; i < other.busyAtStep.length; i++) {
            steps[i] += other.busyAtStep[i];
        }
        return new WorkerCensus(states, steps);
    }

    /** Every state with a count of zero, to fill in. */
    public static EnumMap<WorkerState, Integer> zeros() {
        EnumMap<WorkerState, Integer> states = new EnumMap<>(WorkerState.class);
        for (WorkerState s : WorkerState.values()) {
            states.put(s, 0);
        }
        return states;
    }
}
