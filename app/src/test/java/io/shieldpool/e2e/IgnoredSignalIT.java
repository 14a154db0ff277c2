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
 * Issue 13, section 5: a daemon started with SIGINT ignored (a background job of a script) cannot
 * catch it; it says so in one WARN line at start, and SIGTERM still drains it.
 */
@Timeout(60)
class IgnoredSignalIT {

    @TempDir
    Path dir;

    @Test
    void aDaemonStartedWithSigintIgnoredWarnsOnceAndStillDrainsOnSigterm() throws Exception {
        Path file = dir.resolve("shieldpool.conf");
        Files.writeString(file, """
                shieldpool.log.format = json
                shieldpool.admin.port = 0
                shieldpool.log.level = debug
                shieldpool.work.demo.step-duration = 200ms
                """);
        // why sh: `trap '' INT` then exec, as a non-interactive shell does for `cmd &`.
        try (DaemonProcess daemon = DaemonProcess.launch(List.of("sh", "-c", "trap '' INT; exec \"$0\" --config \"$1\"",
                DaemonProcess.LAUNCHER.toString(), file.toString()), Map.of())) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            List<JsonObject> warnings = daemon.events("signal.ignored");
            assertThat(warnings).singleElement().satisfies(w -> {
                assertThat(w.getString("level")).isEqualTo("WARN");
                assertThat(w.getString("signal")).isEqualTo("SIGINT");
                assertThat(w.getString("message")).contains("SIGINT was ignored when this process started",
                        "Ctrl+C and kill -INT", "SIGTERM still drains and exits");
            });
            daemon.signal("INT");
            Thread.sleep(1000); // a trapped SIGINT would have begun the drain within milliseconds
            assertThat(daemon.events("shutdown.begin")).isEmpty();
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("abandoned")).isZero();
        }
    }

    @Test
    void aDaemonStartedWithDefaultDispositionsWarnsAboutNothing() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir,
                "shieldpool.log.level = debug\nshieldpool.work.demo.step-duration = 200ms")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            assertThat(daemon.events("signal.ignored")).isEmpty();
            daemon.drainNow();
        }
    }
}
