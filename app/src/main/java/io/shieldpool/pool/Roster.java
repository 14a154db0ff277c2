package io.shieldpool.pool;

import io.shieldpool.view.WorkerCensus;
import io.shieldpool.view.WorkerState;
import io.shieldpool.view.WorkerStatus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All live workers of one shard: O(1) add and remove (a removed worker's slot takes the last one),
 * and the read-outs status output needs. Confined to the shard's event loop like the shard.
 */
final class Roster {

    private Worker[] workers = new Worker[16];
    private int size;

    int size() {
        return size;
    }

    Worker get(int i) {
        return workers[i];
    }

    void add(Worker worker) {
        if (size == workers.length) {
            workers = Arrays.copyOf(workers, workers.length << 1);
        }
        worker.slot = size;
        workers[size++] = worker;
    }

    void remove(Worker worker) {
        int slot = worker.slot;
        if (slot < 0 || slot >= size || workers[slot] != worker) {
            return;
        }
        Worker last = workers[--size];
        workers[slot] = last;
        last.slot = slot;
        workers[size] = null;
        worker.slot = -1;
    }

    /** Workers that are not retiring. */
    int activeCount() {
        int active = 0;
        for (int i = 0; i < size; i++) {
            if (!workers[i].isRetiring()) {
                active++;
            }
        }
        return active;
    }

    int busyCount() {
        int busy = 0;
        for (int i = 0; i < size; i++) {
            if (workers[i].state() == WorkerState.BUSY) {
                busy++;
            }
        }
        return busy;
    }

    /** Every worker counted by state, and the busy ones by step. */
    WorkerCensus census() {
        WorkerState[] states = WorkerState.values();
        int[] byState = new int[states.length];
        long[] busyAtStep = new long[1];
        for (int i = 0; i < size; i++) {
            Worker worker = workers[i];
            WorkerState state = worker.state();
            byState[state.ordinal()]++;
            if (state == WorkerState.BUSY) {
                int step = Math.min(worker.stepsDone(), WorkerCensus.STEP_BINS - 1);
                if (step >= busyAtStep.length) {
                    busyAtStep = Arrays.copyOf(busyAtStep, step + 1);
                }
                busyAtStep[step]++;
            }
        }
        var counts = WorkerCensus.zeros();
        for (WorkerState state : states) {
            counts.put(state, byState[state.ordinal()]);
        }
        return new WorkerCensus(counts, busyAtStep);
    }

    /** The busy worker that has gone longest without progress, or null when none is busy. */
    WorkerStatus slowestBusy(long nowNanos) {
        Worker slowest = null;
        for (int i = 0; i < size; i++) {
            Worker worker = workers[i];
            if (worker.state() == WorkerState.BUSY
                    && (slowest == null || worker.lastProgressNanos() - slowest.lastProgressNanos() < 0)) {
                slowest = worker;
            }
        }
        return slowest == null ? null : slowest.status(nowNanos);
    }

    /** Up to {@code limit} workers, as status output shows them. */
    List<WorkerStatus> statuses(int limit, long nowNanos) {
        int n = Math.min(limit, size);
        List<WorkerStatus> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(workers[i].status(nowNanos));
        }
        return list;
    }
}
