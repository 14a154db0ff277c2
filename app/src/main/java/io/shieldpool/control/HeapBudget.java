package io.shieldpool.control;

import java.util.Optional;

/**
 * Whether the heap can hold the workers a reload adds. A reload that asks for more than the JVM
 * can have must be refused with the old config kept: the alternative is an OutOfMemoryError in a
 * running daemon, sections in flight and no drain.
 */
final class HeapBudget {

    /**
     * Heap one idle demo worker keeps live, rounded up: 1,000,000 workers held ~104 MB more than
     * none after a full GC (jcmd GC.run; GC.heap_info, 2026-12-01), ~107 bytes each.
     */
    static final long BYTES_PER_WORKER = 128;
    /** Head-room asked on top of the estimate (garbage made while the workers start, other growth). */
    static final double MARGIN = 1.25;

    private HeapBudget() {
    }

    /**
     * Why growing the pool from {@code from} to {@code to} workers does not fit, or empty when it does.
     *
     * @param maxHeap  the heap's limit (Runtime.maxMemory)
     * @param usedHeap the heap in use now, garbage included (so the check errs on the side of refusing)
     */
    static Optional<String> refusal(int from, int to, long maxHeap, long usedHeap) {
        if (to <= from || maxHeap == Long.MAX_VALUE) {
            return Optional.empty();
        }
        long needed = (long) ((to - (long) from) * BYTES_PER_WORKER * MARGIN);
        long free = maxHeap - usedHeap;
        if (needed <= free) {
            return Optional.empty();
        }
        return Optional.of("a pool size whose workers fit the heap: " + (to - from) + " more workers need ~"
                + mb(needed) + " MB, " + mb(free) + " MB of the " + mb(maxHeap)
                + " MB maximum heap is free (raise -Xmx in SHIELDPOOL_JAVA_OPTS, or grow the pool in steps)");
    }

    /** {@link #refusal} for this JVM's heap now. */
    static Optional<String> refusalHere(int from, int to) {
        Runtime runtime = Runtime.getRuntime();
        return refusal(from, to, runtime.maxMemory(), runtime.totalMemory() - runtime.freeMemory());
    }

    private static long mb(long bytes) {
        return bytes / (1024 * 1024);
    }
}
