package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code shieldpool status}, run through the launcher against a real daemon (and against none).
 * Both read the same config file, so the daemon's admin port must be known in advance: a port the
 * system just handed out (bound, then released) stands in for a configured one.
 */
@Timeout(120)
class StatusCommandIT {

    private static final String TOKEN = "status-token-0123456789";

    @TempDir
    Path dir;

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private Path config(String content) throws IOException {
        Path file = dir.resolve("status-" + System.nanoTime() + ".conf");
        Files.writeString(file, content);
        return file;
    }

    private static DaemonProcess status(Path config, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString(), "status", "--config", config.toString()));
        command.addAll(List.of(args));
        return DaemonProcess.launch(command, Map.of());
    }

    @Test
    void againstARunningDaemonThenDrainingThenGone() throws Exception {
        int port = freePort();
        String settings = """
                shieldpool.admin.port = %d
                shieldpool.pool.size = 3
                shieldpool.work.demo.steps = 3
                shieldpool.work.demo.step-duration = 1500ms
                """.formatted(port);
        Path file = config(settings);
        try (DaemonProcess daemon = DaemonProcess.start(dir, settings)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            try (DaemonProcess status = status(file)) {
                assertThat(status.awaitExit(Duration.ofSeconds(30))).as(status.transcript()).isZero();
                List<String> out = status.stdout();
                assertThat(out.getFirst()).startsWith("shieldpool running").contains("pid " + daemon.pid(), "work demo");
                assertThat(out).anyMatch(l -> l.startsWith("pool       3 workers (3 desired)"));
                assertThat(out).anyMatch(l -> l.startsWith("sections   ") && l.contains("in flight"));
                assertThat(out).anyMatch(l -> l.trim().startsWith("WORKER"));
                assertThat(out).as("no cluster without a shared store").noneMatch(l -> l.startsWith("cluster") || l.startsWith("limits"));
                assertThat(out.stream().filter(l -> l.matches("\\s+\\d+\\s+busy\\s+\\d+\\s+\\d/3\\s+.*"))).hasSize(3);
            }
            try (DaemonProcess json = status(file, "--json", "--workers", "1")) {
                assertThat(json.awaitExit(Duration.ofSeconds(30))).isZero();
                JsonObject parsed = new JsonObject(String.join("\n", json.stdout()));
                assertThat(parsed.getString("state")).isEqualTo("running");
                assertThat(parsed.getJsonArray("workers")).hasSize(1);
            }

            // why: early in a section, so the drain outlasts the status command's JVM start (~1 s on a busy machine)
            try (AdminClient admin = AdminClient.of(daemon)) {
                long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while (true) {
                    JsonObject s = admin.json("/status?workers=0");
                    long busy = s.getJsonObject("pool").getLong("busy");
                    if (busy > 0 && s.getJsonArray("busy_at_step").getLong(0) == busy) {
                        break;
                    }
                    assertThat(System.nanoTime()).as("sections seen at their first step").isLessThan(deadline);
                    Thread.sleep(50);
                }
            }
            daemon.signal("TERM");
            daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            try (DaemonProcess status = status(file)) {
                assertThat(status.awaitExit(Duration.ofSeconds(30))).as(status.transcript()).isEqualTo(1);
                List<String> out = status.stdout();
                assertThat(out.getFirst()).startsWith("shieldpool draining");
                assertThat(out).anyMatch(l -> l.matches("drain      SIGTERM: \\d section\\(s\\) left, [\\d.]+ s of grace left, .*"));
            }
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
        }
        try (DaemonProcess status = status(file)) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(3);
            assertThat(status.stderr()).anyMatch(l -> l.startsWith("shieldpool: no daemon answers at http://127.0.0.1:" + port + "/"));
            assertThat(status.stdout()).isEmpty();
        }
    }

    @Test
    void jsonPrintsAnErrorObjectWhenNoDaemonAnswers() throws Exception {
        int port = freePort();
        try (DaemonProcess status = status(config("shieldpool.admin.port = %d\n".formatted(port)), "--json")) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(3);
            JsonObject error = new JsonObject(String.join("\n", status.stdout()));
            assertThat(error.getString("reason")).isEqualTo("unreachable");
            assertThat(error.getInteger("exit_code")).isEqualTo(3);
            assertThat(error.getString("url")).isEqualTo("http://127.0.0.1:" + port + "/");
            assertThat(error.getString("error")).startsWith("no daemon answers at http://127.0.0.1:" + port + "/");
            assertThat(status.stderr()).anyMatch(l -> l.startsWith("shieldpool: no daemon answers"));
        }
        try (DaemonProcess status = status(config("shieldpool.admin.enabled = false\n"), "--json")) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(3);
            assertThat(new JsonObject(String.join("\n", status.stdout())).getString("reason")).isEqualTo("disabled");
        }
    }

    @Test
    void watchRedrawsEveryIntervalAndShowsTheDaemonGoing() throws Exception {
        int port = freePort();
        String settings = """
                shieldpool.admin.port = %d
                shieldpool.pool.size = 2
                shieldpool.work.demo.step-duration = 200ms
                """.formatted(port);
        Path file = config(settings);
        try (DaemonProcess daemon = DaemonProcess.start(dir, settings);
             DaemonProcess watch = status(file, "--watch", "0.3")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            // Screens: each starts by clearing (ESC [H ESC [2J), then the heading.
            watch.awaitTrue(() -> watch.stdout().stream().filter(l -> l.contains("shieldpool running")).count() >= 3,
                    Duration.ofSeconds(20), "three screens of a running pool");
            assertThat(watch.stdout()).anyMatch(l -> l.startsWith("\033[H\033[2JEvery 0.3s: shieldpool status"));
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            // It goes on, like watch(1), and says on its screen that no daemon answers.
            watch.awaitTrue(() -> watch.stdout().stream().anyMatch(l -> l.startsWith("shieldpool: no daemon answers at")),
                    Duration.ofSeconds(20), "the gone daemon on the screen");
            assertThat(ProcessHandle.of(watch.pid()).map(ProcessHandle::isAlive)).contains(true);
            // why TERM, not Ctrl+C's INT: a test run from a background job starts children with INT ignored
            watch.signal("TERM");
            assertThat(watch.awaitExit(Duration.ofSeconds(10))).isEqualTo(143);
        }
        try (DaemonProcess json = status(file, "--watch", "0.2", "--json")) {
            json.awaitTrue(() -> json.stdout().size() >= 2, Duration.ofSeconds(20), "two JSON lines");
            for (String line : json.stdout().subList(0, 2)) {
                assertThat(new JsonObject(line).getString("reason")).isEqualTo("unreachable");
            }
            json.signal("TERM");
            assertThat(json.awaitExit(Duration.ofSeconds(10))).isEqualTo(143);
        }
    }

    @Test
    void sendsTheConfiguredTokenAndSaysWhenItIsWrong() throws Exception {
        int port = freePort();
        String settings = "shieldpool.admin.port = %d\nshieldpool.admin.token = \"%s\"\n".formatted(port, TOKEN);
        try (DaemonProcess daemon = DaemonProcess.start(dir, settings)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            try (DaemonProcess status = status(config(settings))) {
                assertThat(status.awaitExit(Duration.ofSeconds(30))).as(status.transcript()).isZero();
            }
            Path wrong = config("shieldpool.admin.port = %d\nshieldpool.admin.token = \"%s\"\n".formatted(port, TOKEN + "x"));
            try (DaemonProcess status = status(wrong)) {
                assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(4);
                assertThat(status.stderr()).anyMatch(l -> l.contains("refused the request (401)")
                        && l.contains("shieldpool.admin.token does not match"));
                assertThat(status.stderr()).noneMatch(l -> l.contains(TOKEN));
            }
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
        }
    }

    @Test
    void aDisabledAdminServerOrABadConfigAreSaidPlainly() throws Exception {
        try (DaemonProcess status = status(config("shieldpool.admin.enabled = false\n"))) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(3);
            assertThat(status.stderr()).anyMatch(l -> l.contains("shieldpool.admin.enabled = false"));
        }
        try (DaemonProcess status = status(config("shieldpool.admin.port = -3\n"))) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(78);
            assertThat(status.stderr()).anyMatch(l -> l.startsWith("shieldpool: config error: shieldpool.admin.port: -3"));
        }
    }

    @Test
    void aPickedPortOrAnotherServiceOnThePortAreSaidPlainly() throws Exception {
        try (DaemonProcess status = status(config("shieldpool.admin.port = 0\n"))) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(64);
            assertThat(status.stderr()).anyMatch(l -> l.contains("shieldpool.admin.port = 0") && l.contains("admin.listening"));
        }
        // Something else answers 200 with JSON on the configured port.
        com.sun.net.httpserver.HttpServer other = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        other.createContext("/", exchange -> {
            byte[] body = "{\"state\":\"running\",\"pool\":\"not an object\"}".getBytes();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        other.start();
        try (DaemonProcess status = status(config("shieldpool.admin.port = " + other.getAddress().getPort() + "\n"))) {
            assertThat(status.awaitExit(Duration.ofSeconds(30))).isEqualTo(4);
            assertThat(status.stderr()).anyMatch(l -> l.contains("not a shieldpool status"));
            assertThat(status.stderr()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
        } finally {
            other.stop(0);
        }
    }
}
