package io.shieldpool.control;

import io.shieldpool.kinds.WorkKinds;

import io.shieldpool.view.ShutdownReport;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.view.ExitCode;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Work;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The supervisor in-process, with a work that misbehaves on purpose. */
@Timeout(30)
class SupervisorTest {

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(3));
    private final AtomicReference<Consumer<String>> signals = new AtomicReference<>();

    @AfterEach
    void close() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    private static EffectiveConfig config(int size) throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", Integer.toString(size));
        props.setProperty("shieldpool.pool.event-loops", "2");
        props.setProperty("shieldpool.worker.backoff.initial", "1ms");
        props.setProperty("shieldpool.worker.backoff.max", "5ms");
        return new ConfigLoader(com.typesafe.config.ConfigFactory.empty(), props, WorkKinds.discover()).loadEffective(Optional.empty());
    }

    private Supervisor supervisor(EffectiveConfig config, Work work) {
        return new Supervisor(config, () -> config, c -> work, signals::set);
    }

    /** Sections of two 1 ms steps; the 5th section begun throws an Error, killing its worker's loop. */
    static final class ErrorOnceWork implements Work {
        final AtomicInteger begun = new AtomicInteger();
        final java.util.Set<Long> workerIds = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public void begin(ActiveSection section) {
            workerIds.add(section.workerId());
            if (begun.incrementAndGet() == 5) {
                throw new AssertionError("boom in section " + section.sectionId());
            }
            section.resumeAfter(1_000_000, s -> {
                s.stepDone();
                s.resumeAfter(1_000_000, t -> {
                    t.stepDone();
                    t.complete();
                });
            });
        }

        @Override
        public String type() {
            return "error-once";
        }
    }

    @Test
    void aWorkerWhoseLoopDiesIsReplacedAndNothingIsLost() throws Exception {
        ErrorOnceWork work = new ErrorOnceWork();
        Supervisor supervisor = supervisor(config(4), work);
        supervisor.deploy(vertx, java.util.List.of()).await(5, TimeUnit.SECONDS);
        assertThat(supervisor.state()).isEqualTo(LifecycleState.RUNNING);
        await().atMost(Duration.ofSeconds(5)).until(() -> work.begun.get() > 200);
        signals.get().accept("TERM");
        ShutdownReport report = supervisor.finished().await(10, TimeUnit.SECONDS);
        assertThat(report.exitCode()).isEqualTo(ExitCode.OK);
        var totals = report.totals();
        assertThat(totals.failed()).as("the section that threw is failed").isEqualTo(1);
        assertThat(totals.started()).isEqualTo(totals.completed() + totals.failed() + totals.timedOut() + totals.abandoned());
        assertThat(totals.started()).isEqualTo(work.begun.get());
        assertThat(supervisor.workerRestarts()).isEqualTo(1);
        assertThat(work.workerIds).as("workers 1-4, then replacement 5 ran sections").containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void poolOfSizeZeroIdlesAndStopsAtOnce() throws Exception {
        Work never = new Work() {
            @Override
            public void begin(ActiveSection section) {
                throw new AssertionError("no section may start in an empty pool");
            }

            @Override
            public String type() {
                return "never";
            }
        };
        Supervisor supervisor = supervisor(config(0), never);
        supervisor.deploy(vertx, java.util.List.of()).await(5, TimeUnit.SECONDS);
        signals.get().accept("INT");
        ShutdownReport report = supervisor.finished().await(5, TimeUnit.SECONDS);
        assertThat(report.exitCode()).isEqualTo(ExitCode.OK);
        assertThat(report.totals().started()).isZero();
    }
}
