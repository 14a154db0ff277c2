package io.shieldpool.pool;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DelayLineTest {

    @Test
    void releasesWorkersInOrderOnlyWhenDue() {
        DelayLine line = new DelayLine(100);
        Worker a = new Worker(1, null);
        Worker b = new Worker(2, null);
        line.add(a, 1_000);
        line.add(b, 1_050);
        assertThat(line.nextDeadline()).isEqualTo(1_100);
        assertThat(line.pollDue(1_099)).isNull();
        assertThat(line.pollDue(1_100)).isSameAs(a);
        assertThat(line.pollDue(1_100)).isNull();
        assertThat(line.pollDue(2_000)).isSameAs(b);
        assertThat(line.isEmpty()).isTrue();
    }

    @Test
    void growsAcrossTheWrapPointKeepingOrder() {
        DelayLine line = new DelayLine(10);
        Worker[] workers = new Worker[1000];
        long now = 0;
        int taken = 0;
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i, null);
            line.add(workers[i], now++);
            if (i % 3 == 0) {
                // take some out while adding, so head moves and the ring wraps before it grows
                assertThat(line.pollDue(Long.MAX_VALUE / 2)).isSameAs(workers[taken++]);
            }
        }
        while (!line.isEmpty()) {
            assertThat(line.pollDue(Long.MAX_VALUE / 2)).isSameAs(workers[taken++]);
        }
        assertThat(taken).isEqualTo(workers.length);
    }

    @Test
    void deadlinesSurviveNanoTimeWrapAround() {
        DelayLine line = new DelayLine(100);
        Worker a = new Worker(1, null);
        line.add(a, Long.MAX_VALUE - 10);
        assertThat(line.pollDue(Long.MAX_VALUE)).isNull();
        assertThat(line.pollDue(Long.MIN_VALUE + 100)).isSameAs(a);
    }
}
