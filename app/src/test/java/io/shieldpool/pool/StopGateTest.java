package io.shieldpool.pool;

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
        // why: the close must land while every racer is still admitting, however the threads are
        // scheduled; each racer keeps going until it has seen the close and tried again after it.
        CountDownLatch warmedUp = new CountDownLatch(threads);
        Thread[] racers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            racers[t] = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                int afterClose = 0;
                for (int i = 0; afterClose < 1_000; i++) {
                    if (i == 1_000) {
                        warmedUp.countDown();
                    }
                    boolean closedBefore = closed.get();
                    if (closedBefore) {
                        afterClose++;
                    }
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
        warmedUp.await();
        long inFlightAtClose = gate.close();
        closed.set(true);
        if (inFlightAtClose == 0) {
            drainedSignals.incrementAndGet();
        }
        for (Thread racer : racers) {
            racer.join();
        }
        assertThat(attempted.get()).isEqualTo(admitted.get() + refused.get());
        assertThat(admitted.get()).as("admissions before the close").isGreaterThanOrEqualTo(threads * 1_000L);
        assertThat(refused.get()).as("attempts after the close").isGreaterThanOrEqualTo(threads * 1_000L);
        assertThat(admittedAfterClose.get()).as("admitted after the close was visible").isZero();
        assertThat(gate.inFlight()).isZero();
        assertThat(drainedSignals.get()).as("the drain is signalled exactly once").isEqualTo(1);
        assertThat(gate.tryAdmit()).isFalse();
    }
}
