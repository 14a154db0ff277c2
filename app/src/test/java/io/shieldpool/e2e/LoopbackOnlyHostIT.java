package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
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
 * A clean start on a host with loopback only (a network namespace of its own, as PrivateNetwork=
 * or a container gives) logs no warning: Netty finds no MAC address there and, unless given a
 * machine id, warns "Failed to find a usable hardware address". Needs root and unshare(1)/ip(8)
 * to make the namespace; skipped, visibly, without them.
 */
@Timeout(60)
class LoopbackOnlyHostIT {

    @TempDir
    Path dir;

    @Test
    void aCleanStartLogsNoWarning() throws Exception {
        boolean canUnshare = ToolRun.of(new ProcessBuilder("unshare", "-n", "ip", "link", "set", "lo", "up")).exitCode() == 0;
        if (!canUnshare) {
            System.err.println("SKIPPED LoopbackOnlyHostIT: cannot make a network namespace (needs root, unshare, ip)");
        }
        Assumptions.assumeTrue(canUnshare, "unshare -n needs root");
        Path file = dir.resolve("shieldpool.conf");
        Files.writeString(file, """
                shieldpool.log.format = json
                shieldpool.admin.port = 0
                shieldpool.pool.size = 2
                shieldpool.work.demo.step-duration = 100ms
                """);
        String script = "ip link set lo up && ip -o link | grep -qv ': lo:' && exit 99; exec \"$0\" --config \"$1\"";
        try (DaemonProcess daemon = DaemonProcess.launch(List.of("unshare", "-n", "sh", "-c", script,
                DaemonProcess.LAUNCHER.toString(), file.toString()), Map.of())) {
            JsonObject listening = daemon.awaitEvent("admin.listening", Duration.ofSeconds(20));
            assertThat(listening.getString("host")).isEqualTo("127.0.0.1");
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.awaitTrue(() -> daemon.stdout().stream().filter(l -> l.contains("step 3 of 3 done")).count() >= 4,
                    Duration.ofSeconds(20), "4 sections");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
            assertThat(daemon.events()).as(daemon.transcript()).isNotEmpty()
                    .noneMatch(e -> e.getString("level").equals("WARN") || e.getString("level").equals("ERROR"));
            assertThat(daemon.stdout()).noneMatch(l -> l.contains("hardware address"));
        }
    }
}
