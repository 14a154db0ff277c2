package io.shieldpool.control;

import io.shieldpool.time.ManualTicker;
import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.kinds.Work;
import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.view.ExitCode;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolListener;
import io.shieldpool.view.ShutdownReport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Optional;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The drain's logic on a clock moved by hand: the grace cap, the one cut, the repeated Ctrl+C. */
@Timeout(30)
class DrainTest {

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(3));
    private final AtomicReference<Consumer<String>> signals = new AtomicReference<>();
    private final ManualTicker clock = new ManualTicker();
    private final CountDownLatch announced = new CountDownLatch(1);
    private final AtomicInteger afterCuts = new AtomicInteger();
    private final AtomicInteger sectionsBegun = new AtomicInteger();

    @AfterEach
    void close() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    /** Sections that never end on their own: only a cut ends the drain. */
    private final Work held = new Work() {
        @Override
        public void begin(ActiveSection section) {
            sectionsBegun.incrementAndGet();
        }

        @Override
        public String type() {
            return "held";
        }
    };

    private Supervisor start(String grace) throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", "4");
        props.setProperty("shieldpool.pool.event-loops", "2");
        props.setProperty("shieldpool.shutdown.grace", grace);
        EffectiveConfig config = new ConfigLoader(com.typesafe.config.ConfigFactory.empty(), props,
                WorkKinds.discover()).loadEffective(Optional.empty());
        KindRuntime kinds = new KindRuntime() {
            @Override
            public Work create(ShieldpoolConfig c) {
                return held;
            }

            @Override
            public void afterCut() {
                afterCuts.incrementAndGet();
            }
        };
        Supervisor supervisor = new Supervisor(config, () -> config, kinds, signals::set, clock);
        PoolListener listener = new PoolListener() {
            @Override
            public void drainBegan(String signal, long inFlight, Duration grace) {
                announced.countDown();
            }
        };
        supervisor.deploy(vertx, List.of(listener)).await(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> sectionsBegun.get() == 4);
        return supervisor;
    }

    private void signal(String name) {
        signals.get().accept(name);
    }

    @Test
    void theGraceCapCutsWhenTheInjectedClockPassesIt() throws Exception {
        Supervisor supervisor = start("10s");
        signal("TERM");
        assertThat(announced.await(5, TimeUnit.SECONDS)).isTrue();
        clock.advance(Duration.ofSeconds(9));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> supervisor.state() == LifecycleState.DRAINING);
        clock.advance(Duration.ofSeconds(1));
        ShutdownReport report = supervisor.finished().await(5, TimeUnit.SECONDS);
        assertThat(report.exitCode()).isEqualTo(ExitCode.DRAIN_CUT);
        assertThat(report.totals().abandoned()).isEqualTo(4);
        assertThat(report.drainMillis()).as("measured on the injected clock").isEqualTo(10_000);
        var totals = report.totals();
        assertThat(totals.started()).isEqualTo(totals.completed() + totals.failed() + totals.timedOut() + totals.abandoned());
    }

    @Test
    void aStopGateThatFailsToCloseStillEndsTheDrainAsACut() throws Exception {
        // before: closeGates' failure was dropped, the drain waited for its announcement forever
        // (state cutting once the grace passed), and only a SIGKILL ended the daemon
        AtomicInteger abandonAsked = new AtomicInteger();
        Drain.Stoppable failingGates = new Drain.Stoppable() {
            @Override
            public io.vertx.core.Future<Long> closeGates() {
                return io.vertx.core.Future.failedFuture(new NoClassDefFoundError("io/shieldpool/pool/Gone"));
            }

            @Override
            public io.vertx.core.Future<Integer> abandonInFlight() {
                abandonAsked.incrementAndGet();
                return io.vertx.core.Future.succeededFuture(2);
            }

            @Override
            public io.vertx.core.Future<io.shieldpool.view.ShardSnapshot> totals() {
                return io.vertx.core.Future.succeededFuture(io.shieldpool.view.ShardSnapshot.EMPTY);
            }
        };
        Drain drain = new Drain(new Lifecycle(), clock, vertx, new PoolListener() {
            @Override
            public void drainBegan(String signal, long inFlight, Duration grace) {
                announced.countDown();
            }
        }, afterCuts::incrementAndGet, (worker, cause) -> false);
        vertx.getOrCreateContext().runOnContext(v -> {
            drain.poolDeployed(failingGates);
            drain.begin("SIGTERM", Duration.ofSeconds(30));
        });

        ShutdownReport report = drain.finished().await(5, TimeUnit.SECONDS);
        assertThat(announced.getCount()).isZero();
        assertThat(report.exitCode()).isEqualTo(ExitCode.DRAIN_CUT);
        assertThat(report.reason()).startsWith("closing the stop gates failed: java.lang.NoClassDefFoundError");
        assertThat(abandonAsked.get()).isEqualTo(1);
        assertThat(afterCuts.get()).isEqualTo(1);
    }

    @Test
    void theCutRunsExactlyOnceHoweverManyTimesItIsAskedFor() throws Exception {
        Supervisor supervisor = start("10s");
        signal("INT");
        assertThat(announced.await(5, TimeUnit.SECONDS)).isTrue();
        clock.advance(Duration.ofSeconds(1));
        signal("INT"); // a second press: cuts
        clock.advance(Duration.ofSeconds(1));
        signal("INT"); // and a third, while cutting or after
        clock.advance(Duration.ofSeconds(20)); // past the grace: its timer must not cut again
        ShutdownReport report = supervisor.finished().await(5, TimeUnit.SECONDS);
        assertThat(report.exitCode()).isEqualTo(ExitCode.DRAIN_CUT);
        assertThat(report.reason()).isEqualTo("second SIGINT");
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> afterCuts.get() == 1);
        assertThat(report.totals().abandoned()).isEqualTo(4);
        assertThat(supervisor.state()).isEqualTo(LifecycleState.STOPPED);
    }

    @Test
    void aSecondSigintWithinTheWindowIsTheSameKeyPress() throws Exception {
        Supervisor supervisor = start("1h");
        signal("INT");
        clock.advance(Duration.ofMillis(1));
        signal("INT"); // the same Ctrl+C, forwarded again by a wrapper
        assertThat(announced.await(5, TimeUnit.SECONDS)).isTrue();
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> supervisor.state() == LifecycleState.DRAINING);
        clock.advance(Supervisor.SAME_KEY_PRESS);
        signal("INT"); // a real second press
        ShutdownReport report = supervisor.finished().await(5, TimeUnit.SECONDS);
        assertThat(report.exitCode()).isEqualTo(ExitCode.DRAIN_CUT);
        assertThat(afterCuts.get()).isEqualTo(1);
    }
}
