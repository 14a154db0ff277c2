package io.shieldpool.control;

import io.shieldpool.view.LifecycleState;

import org.junit.jupiter.api.Test;

import static io.shieldpool.view.LifecycleState.DRAINING;
import static io.shieldpool.view.LifecycleState.RUNNING;
import static io.shieldpool.view.LifecycleState.STARTING;
import static io.shieldpool.view.LifecycleState.STOPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LifecycleTest {

    @Test
    void startsStartingAndMovesForward() {
        Lifecycle lifecycle = new Lifecycle();
        assertThat(lifecycle.state()).isEqualTo(STARTING);
        assertThat(lifecycle.goTo(RUNNING)).isTrue();
        assertThat(lifecycle.goTo(DRAINING)).isTrue();
        assertThat(lifecycle.isStopping()).isTrue();
        assertThat(lifecycle.goTo(STOPPED)).isTrue();
        assertThat(lifecycle).hasToString("stopped");
    }

    @Test
    void stoppingTwiceIsANoOp() {
        Lifecycle lifecycle = new Lifecycle();
        lifecycle.goTo(STOPPED);
        assertThat(lifecycle.goTo(STOPPED)).isFalse();
        assertThat(lifecycle.state()).isEqualTo(STOPPED);
    }

    @Test
    void aSignalDuringStartUpSkipsRunning() {
        Lifecycle lifecycle = new Lifecycle();
        assertThat(lifecycle.goTo(DRAINING)).isTrue();
        assertThat(lifecycle.is(DRAINING)).isTrue();
    }

    @Test
    void goingBackThrowsWithAClearMessage() {
        Lifecycle lifecycle = new Lifecycle();
        lifecycle.goTo(DRAINING);
        assertThatThrownBy(() -> lifecycle.goTo(RUNNING))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("draining -> running");
        assertThatThrownBy(() -> lifecycle.goTo(STARTING)).isInstanceOf(IllegalStateException.class);
        assertThat(lifecycle.state()).isEqualTo(DRAINING);
    }

    @Test
    void concurrentStopsMakeExactlyOneTransition() throws Exception {
        for (int round = 0; round < 200; round++) {
            Lifecycle lifecycle = new Lifecycle();
            lifecycle.goTo(RUNNING);
            var winners = new java.util.concurrent.atomic.AtomicInteger();
            Thread[] threads = new Thread[4];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = Thread.ofPlatform().start(() -> {
                    if (lifecycle.goTo(DRAINING)) {
                        winners.incrementAndGet();
                    }
                });
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(winners.get()).isEqualTo(1);
        }
    }
}
