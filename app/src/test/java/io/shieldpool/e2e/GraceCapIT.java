package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** What the grace cap and a second SIGINT cut, and how they say so. */
@Timeout(120)
class GraceCapIT {

    private static final String LONG_SECTIONS = """
            shieldpool.log.level = debug
            shieldpool.pool.size = 3
            shieldpool.work.demo.steps = 3
            shieldpool.work.demo.step-duration = 2s
            """;

    @TempDir
    Path dir;

    @Test
    void sectionsLongerThanTheGraceAreReportedOnceAndExitIs75() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, LONG_SECTIONS + "shieldpool.shutdown.grace = 700ms\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Thread.sleep(300);
            Instant signalled = Instant.now();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isEqualTo(75);
            JsonObject summary = DrainInvariants.check(daemon, true);
            List<JsonObject> abandoned = daemon.events("section.abandoned");
            assertThat(abandoned).hasSize(3);
            Set<Long> inFlight = daemon.events("section.start").stream()
                    .map(e -> e.getLong("section")).collect(Collectors.toSet());
            assertThat(abandoned).extracting(e -> e.getLong("section")).containsExactlyInAnyOrderElementsOf(inFlight);
            for (JsonObject cut : abandoned) {
                assertThat(cut.getString("level")).isEqualTo("ERROR");
                assertThat(cut.getLong("worker")).isPositive();
                assertThat(cut.getInteger("step")).isBetween(0, 2);
                assertThat(cut.getLong("elapsed_ms")).isGreaterThanOrEqualTo(700L);
            }
            assertThat(summary.getLong("exit_code")).isEqualTo(75L);
            assertThat(summary.getLong("abandoned")).isEqualTo(3L);
            // Cut at the cap, not later: the sections would have needed ~5.7 s more.
            assertThat(Duration.between(signalled, DaemonProcess.timestamp(summary))).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void secondSigintForcesTheExitAtOnce() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, LONG_SECTIONS)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.signal("INT");
            JsonObject begin = daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            assertThat(begin.getString("message")).contains("a second SIGINT forces the exit");
            // A second press, not the same one forwarded twice (see Supervisor.SAME_KEY_PRESS).
            Thread.sleep(io.shieldpool.control.Supervisor.SAME_KEY_PRESS.toMillis() + 100);
            Instant second = Instant.now();
            daemon.signal("INT");
            assertThat(daemon.awaitExit(Duration.ofSeconds(10))).as(daemon.transcript()).isEqualTo(75);
            JsonObject summary = DrainInvariants.check(daemon, true);
            assertThat(summary.getLong("abandoned")).isEqualTo(3L);
            assertThat(Duration.between(second, DaemonProcess.timestamp(summary))).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void aSecondSigtermDoesNotForceAnything() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 2
                shieldpool.work.demo.steps = 2
                shieldpool.work.demo.step-duration = 400ms
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.signal("TERM");
            daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            daemon.drainNow();
        }
    }
}
