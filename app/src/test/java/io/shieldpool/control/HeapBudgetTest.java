package io.shieldpool.control;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeapBudgetTest {

    private static final long MB = 1024 * 1024;

    @Test
    void aGrowthThatFitsTheFreeHeapPasses() {
        assertThat(HeapBudget.refusal(3, 1_000_000, 512 * MB, 64 * MB)).isEmpty();
        assertThat(HeapBudget.refusal(1_000_000, 3, 64 * MB, 60 * MB)).as("shrinking needs nothing").isEmpty();
    }

    @Test
    void aGrowthPastTheFreeHeapIsRefusedWithTheFigures() {
        assertThat(HeapBudget.refusal(2, 2_000_000, 64 * MB, 20 * MB)).hasValueSatisfying(why -> assertThat(why)
                .isEqualTo("a pool size whose workers fit the heap: 1999998 more workers need ~305 MB, 44 MB of the 64 MB"
                        + " maximum heap is free (raise -Xmx in SHIELDPOOL_JAVA_OPTS, or grow the pool in steps)"));
    }

    @Test
    void theEstimateCountsEveryWorkerWithItsMargin() {
        long needed = (long) (1000 * HeapBudget.BYTES_PER_WORKER * HeapBudget.MARGIN);
        assertThat(HeapBudget.refusal(0, 1000, needed, 0)).isEmpty();
        assertThat(HeapBudget.refusal(0, 1000, needed, 1)).isPresent();
    }
}
