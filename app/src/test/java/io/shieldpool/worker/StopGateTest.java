package io.shieldpool.worker;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StopGateTest {

    @Test
    void admitsUntilClosedThenRefuses() {
        StopGate gate = new StopGate();
        assertThat(gate.tryAdmit()).isTrue();
        assertThat(gate.tryAdmit()).isTrue();
        assertThat(gate.close()).isEqualTo(2);
        assertThat(gate.tryAdmit()).isFalse();
        assertThat(gate.release()).isFalse();
        assertThat(gate.release()).as("the last release drains the closed gate").isTrue();
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void closingTwiceIsANoOp() {
        StopGate gate = new StopGate();
        assertThat(gate.close()).isZero();
        assertThat(gate.close()).isEqualTo(-1);
        assertThat(gate.isClosed()).isTrue();
    }

    @Test
    void releaseWithoutAdmitIsABug() {
        StopGate gate = new StopGate();
        assertThatThrownBy(gate::release).isInstanceOf(IllegalStateException.class);
        assertThat(gate.inFlight()).isZero();
        assertThat(gate.tryAdmit()).isTrue();
    }

    @RepeatedTest(20)
    void admissionsRacingACloseFromSeveralThreads() throws Exception {
        StopGate gate = new StopGate();
        int threads = 4;
        AtomicLong attempted = new AtomicLong();
        AtomicLong admitted = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong admittedAfterClose = new AtomicLong();
        AtomicBoolean closed = new AtomicBoolean();
        AtomicLong drainedSignals = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        Thread[] racers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            racers[t] = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 20_000; i++) {
                    boolean closedBefore = closed.get();
                    attempted.incrementAndGet();
                    if (gate.tryAdmit()) {
                        admitted.incrementAndGet();
                        if (closedBefore) {
                            admittedAfterClose.incrementAndGet();
                        }
                        if (gate.release()) {
                            drainedSignals.incrementAndGet();
                        }
                    } else {
                        refused.incrementAndGet();
                    }
                }
            });
        }
        go.countDown();
        Thread.sleep(1);
        long inFlightAtClose = gate.close();
        closed.set(true);
        if (inFlightAtClose == 0) {
            drainedSignals.incrementAndGet();
        }
        for (Thread racer : racers) {
            racer.join();
        }
        assertThat(attempted.get()).isEqualTo(admitted.get() + refused.get());
        assertThat(admittedAfterClose.get()).as("admitted after the close was visible").isZero();
        assertThat(gate.inFlight()).isZero();
        assertThat(drainedSignals.get()).as("the drain is signalled exactly once").isEqualTo(1);
        assertThat(gate.tryAdmit()).isFalse();
    }
}
