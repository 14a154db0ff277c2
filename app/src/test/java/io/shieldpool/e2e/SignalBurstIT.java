package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signals that come close together, sent to the real daemon: the log follows their order, a
 * signal during the exit is acknowledged quietly, and one Ctrl+C forwarded twice is one press.
 */
@Timeout(180)
class SignalBurstIT {

    private static final String IN_FLIGHT = """
            shieldpool.log.level = debug
            shieldpool.pool.size = 3
            shieldpool.work.demo.steps = 2
            shieldpool.work.demo.step-duration = 300ms
            """;

    @TempDir
    Path dir;

    /** Runs {@code script} with the daemon's pid as $0 (a shell's builtin kill: microseconds apart). */
    private static void shell(String script, long pid) throws Exception {
        Process sh = new ProcessBuilder("sh", "-c", script, Long.toString(pid)).inheritIO().start();
        sh.waitFor();
    }

    @Test
    void twoSigtermsCloseTogetherAreLoggedInTheOrderTheyCame() throws Exception {
        // why at least one round: two signals of one kind that reach the process before its handler
        // has taken the first are one pending signal to the kernel; a millisecond apart both arrive.
        int bothArrived = 0;
        for (int round = 0; round < 6; round++) {
            try (DaemonProcess daemon = DaemonProcess.start(dir, IN_FLIGHT)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                shell("kill -TERM $0; sleep 0.0005; kill -TERM $0", daemon.pid());
                assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
                List<JsonObject> events = daemon.events();
                int begin = indexOf(events, e -> "shutdown.begin".equals(e.getString("event")));
                int ignored = indexOf(events, e -> e.getString("message", "").startsWith("SIGTERM ignored: already draining"));
                assertThat(begin).as("round %d\n%s", round, daemon.transcript()).isNotNegative();
                if (ignored >= 0) {
                    bothArrived++;
                    assertThat(begin).as("round %d: 'SIGTERM: draining' before 'SIGTERM ignored'\n%s", round,
                            daemon.transcript()).isLessThan(ignored);
                }
                DrainInvariants.check(daemon, false);
            }
        }
        assertThat(bothArrived).as("rounds in which both SIGTERMs arrived").isPositive();
    }

    @Test
    void signalsDuringTheExitAreAcknowledgedQuietly() throws Exception {
        // Nothing in flight, so the exit follows the SIGTERM at once, under a stream of SIGTTINs.
        for (int round = 0; round < 4; round++) {
            try (DaemonProcess daemon = DaemonProcess.start(dir, "shieldpool.pool.size = 0")) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                shell("kill -TERM $0; while kill -TTIN $0 2>/dev/null; do :; done", daemon.pid());
                assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
                String transcript = daemon.transcript();
                assertThat(transcript).as("round %d", round).doesNotContain("RejectedExecutionException")
                        .doesNotContain("could not be handed");
                assertThat(daemon.events("shutdown.complete")).hasSize(1);
            }
        }
    }

    @Test
    void oneCtrlCForwardedTwiceByAWrapperInTheSameProcessGroupIsOnePress() throws Exception {
        // A terminal's Ctrl+C reaches its whole foreground process group: here `timeout
        // --foreground` and the daemon; timeout forwards its copy to the daemon as well. Why rounds:
        // when the forwarded copy reaches the daemon before its handler has taken the first, the
        // kernel holds one pending SIGINT, not two (standard signals are not queued: seen in a
        // clean-clone CI run). Every round must be one press; at least one must see both copies.
        Path file = dir.resolve("wrapped.conf");
        Files.writeString(file, "shieldpool.log.format = json\nshieldpool.admin.port = 0\n" + IN_FLIGHT);
        int bothArrived = 0;
        for (int round = 0; round < 5 && bothArrived == 0; round++) {
            try (DaemonProcess daemon = DaemonProcess.launch(List.of("setsid", "timeout", "--foreground", "120",
                    DaemonProcess.LAUNCHER.toString(), "--config", file.toString()), Map.of())) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.await(e -> e.getString("message", "").contains("step 1 of 2 done"), Duration.ofSeconds(10), "step 1");
                daemon.signalProcessGroup("INT");
                assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
                JsonObject summary = DrainInvariants.check(daemon, false);
                assertThat(summary.getLong("abandoned")).as("round %d", round).isZero();
                assertThat(daemon.events("section.abandoned")).as("round %d", round).isEmpty();
                if (daemon.events().stream().anyMatch(e -> e.getString("message", "").startsWith("SIGINT again within 250 ms"))) {
                    bothArrived++;
                }
            }
        }
        assertThat(bothArrived).as("rounds in which both copies arrived and the second was taken as the same press")
                .isPositive();
    }

    private static int indexOf(List<JsonObject> events, java.util.function.Predicate<JsonObject> match) {
        for (int i = 0; i < events.size(); i++) {
            if (match.test(events.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
