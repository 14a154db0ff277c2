package io.shieldpool.pool;

/**
 * Workers waiting out one fixed delay, in arrival order. Because the delay is the same for all,
 * deadlines are non-decreasing from head to tail: adding and taking the next due worker are O(1)
 * and allocate nothing, where a general timer heap would cost O(log n) and an object per timer.
 * A million workers stepping with the same step-duration is exactly this case.
 */
final class DelayLine {

    final long delayNanos;
    private long[] deadlines = new long[16];
    private Worker[] waiting = new Worker[16];
    private int head;
    private int size;

    DelayLine(long delayNanos) {
        this.delayNanos = delayNanos;
    }

    void add(Worker worker, long nowNanos) {
        if (size == waiting.length) {
            grow();
        }
        int tail = (head + size) & (waiting.length - 1);
        deadlines[tail] = nowNanos + delayNanos;
        waiting[tail] = worker;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The head's deadline; only meaningful when not empty. */
    long nextDeadline() {
        return deadlines[head];
    }

    /** Takes the head if its deadline has passed, else null. */
    Worker pollDue(long nowNanos) {
        if (size == 0 || deadlines[head] - nowNanos > 0) {
            return null;
        }
        Worker worker = waiting[head];
        waiting[head] = null;
        head = (head + 1) & (waiting.length - 1);
        size--;
        return worker;
    }

    int size() {
        return size;
    }

    private void grow() {
        int capacity = waiting.length << 1;
        long[] newDeadlines = new long[capacity];
        Worker[] newWaiting = new Worker[capacity];
        for (int i = 0; i < size; i++) {
            int from = (head + i) & (waiting.length - 1);
            newDeadlines[i] = deadlines[from];
            newWaiting[i] = waiting[from];
        }
        deadlines = newDeadlines;
        waiting = newWaiting;
        head = 0;
    }
}
