package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** SIGTERM and SIGINT sent to the real daemon at awkward moments: the drain must be clean. */
@Timeout(120)
class ShutdownIT {

    private static final String SHORT_STEPS = """
            shieldpool.log.level = debug
            shieldpool.pool.size = 4
            shieldpool.work.demo.steps = 3
            shieldpool.work.demo.step-duration = 150ms
            """;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} mid-step")
    @ValueSource(strings = {"TERM", "INT"})
    void signalMidStepLetsEverySectionFinish(String signal) throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, SHORT_STEPS)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            // Mid-step: right after some section logged a step other than the last.
            daemon.await(e -> e.getString("message", "").matches("worker \\d+ section \\d+: step 1 of 3 done"),
                    Duration.ofSeconds(10), "a step 1 line");
            daemon.signal(signal);
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
            JsonObject summary = DrainInvariants.check(daemon, false);
            JsonObject begin = daemon.events("shutdown.begin").getFirst();
            assertThat(begin.getString("signal")).isEqualTo("SIG" + signal);
            assertThat(begin.getLong("in_flight")).as("a mid-step signal finds sections in flight").isPositive();
            assertThat(summary.getLong("exit_code")).isZero();
            everyStartedSectionDidAllItsSteps(daemon);
        }
    }

    @Test
    void signalsAtRandomMomentsAlwaysDrainCleanly() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < 4; round++) {
            String signal = random.nextBoolean() ? "TERM" : "INT";
            try (DaemonProcess daemon = DaemonProcess.start(dir, SHORT_STEPS)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                Thread.sleep(random.nextInt(900));
                daemon.signal(signal);
                assertThat(daemon.awaitExit(Duration.ofSeconds(20)))
                        .as("seed %d round %d %s\n%s", seed, round, signal, daemon.transcript()).isZero();
                DrainInvariants.check(daemon, false);
                everyStartedSectionDidAllItsSteps(daemon);
            }
        }
    }

    @Test
    void signalBetweenSectionsDrainsWithNothingInFlight() throws Exception {
        // One worker, steps of zero length would be too fast to aim at; instead a pool whose
        // sections always fail sits in backoff between sections almost all the time.
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 2
                shieldpool.work.demo.step-duration = 0
                shieldpool.work.demo.failure-probability = 1.0
                shieldpool.worker.backoff.initial = 10m
                shieldpool.worker.backoff.max = 10m
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.await(e -> "section.end".equals(e.getString("event")), Duration.ofSeconds(5), "a first failure");
            Thread.sleep(300);
            JsonObject summary = daemon.drainNow();
            assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight")).isZero();
            assertThat(summary.getLong("failed")).isEqualTo(2L);
            // No one waits for a backoff to run out: the drain ends long before the first one would.
            // (How fast a drain with nothing in flight exits is benchmark B1's figure.)
            assertThat(summary.getLong("drain_ms")).isLessThan(Duration.ofMinutes(10).toMillis());
            assertThat(daemon.events("section.start")).as("no section after the pause").hasSize(2);
        }
    }

    @Test
    void signalBeforeReadyExitsCleanly() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, SHORT_STEPS)) {
            // The JVM is still starting: wait only for its first line (the effective config).
            daemon.awaitEvent("config", Duration.ofSeconds(20));
            daemon.drainNow();
        }
    }

    @Test
    void exitsPromptlyAfterTheLastSection() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, SHORT_STEPS)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Thread.sleep(200);
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            JsonObject lastEnd = daemon.events("section.end").getLast();
            JsonObject complete = daemon.events("shutdown.complete").getFirst();
            // Behaviour: the pool stops on the last section's end, not on a poll or a timer (the
            // grace of 30 s has not run out). How long that takes is benchmark B1's figure.
            assertThat(DaemonProcess.timestamp(complete)).isAfterOrEqualTo(DaemonProcess.timestamp(lastEnd));
            assertThat(complete.getString("message")).startsWith("stopped (drained)");
            assertThat(complete.getLong("drain_ms")).isLessThan(Duration.ofSeconds(30).toMillis());
        }
    }

    @Test
    void vertxClosesOnlyAfterTheLastStepOfEverySectionInFlight() throws Exception {
        // The asyncio recipe's scenario (see the README): a pool of 3 shielded sections of 3 steps of
        // 1 s, Ctrl+C mid-step; closing the runtime first would cut them.
        String seed = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 3
                shieldpool.work.demo.steps = 3
                shieldpool.work.demo.step-duration = 1s
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, seed)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.await(e -> e.getString("message", "").endsWith("step 1 of 3 done"), Duration.ofSeconds(5), "step 1");
            daemon.signal("INT");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            DrainInvariants.check(daemon, false);
            everyStartedSectionDidAllItsSteps(daemon);
            assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight")).isEqualTo(3L);
        }
    }

    /** Each section that started logged "step 3 of 3 done" before the pool stopped. */
    static void everyStartedSectionDidAllItsSteps(DaemonProcess daemon) {
        for (JsonObject start : daemon.events("section.start")) {
            String id = start.getValue("section").toString();
            long steps = daemon.events().stream()
                    .filter(e -> e.getString("message", "").matches("worker \\d+ section " + id + ": step \\d of 3 done"))
                    .count();
            assertThat(steps).as("steps logged by section %s\n%s", id, daemon.transcript()).isEqualTo(3);
        }
    }
}
