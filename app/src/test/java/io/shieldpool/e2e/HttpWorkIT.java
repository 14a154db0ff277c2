package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The http kind against a real local server that records requests and delays its answers:
 * sections in flight complete during a drain, max-rate holds across the pool, slow answers time
 * out, and a refused connection fails with the backoff.
 */
@Timeout(120)
class HttpWorkIT {

    @TempDir
    Path dir;

    @Test
    void requestsInFlightCompleteDuringADrain() throws Exception {
        try (RecordingServer server = new RecordingServer()) {
            String config = """
                    shieldpool.log.level = debug
                    shieldpool.pool.size = 3
                    shieldpool.work.type = http
                    shieldpool.work.http {
                      method = POST
                      url = "%s"
                      headers { X-Batch = nightly }
                      body = "{\\"items\\": 10}"
                    }
                    """.formatted(server.url("/sync?delay=700"));
            try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.awaitTrue(() -> server.requests().size() >= 3, Duration.ofSeconds(10), "three requests received");
                JsonObject summary = daemon.drainNow();
                assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight")).isEqualTo(3);
                assertThat(summary.getLong("completed")).isEqualTo(summary.getLong("started"));
                assertThat(server.answered()).as("every request was answered and its answer read")
                        .isEqualTo((int) summary.getLong("completed").longValue());
                assertThat(server.requests()).allSatisfy(request -> {
                    assertThat(request.method()).isEqualTo("POST");
                    assertThat(request.header()).isEqualTo("nightly");
                    assertThat(request.body()).isEqualTo("{\"items\": 10}");
                });
            }
        }
    }

    @Test
    void maxRateHoldsAcrossThePool() throws Exception {
        double maxRate = 10;
        try (RecordingServer server = new RecordingServer()) {
            server.warmUp();
            String config = """
                    shieldpool.log.level = debug
                    shieldpool.pool.size = 8
                    shieldpool.work.type = http
                    shieldpool.work.http.url = "%s"
                    shieldpool.work.http.max-rate = %s
                    """.formatted(server.url("/ping"), maxRate);
            try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.awaitTrue(() -> server.requests().size() >= 35, Duration.ofSeconds(30), "35 requests");
                daemon.drainNow();
            }
            List<RecordingServer.Request> requests = server.requests();
            // Over any one-second window: at most rate + 1 by construction, +2 for network jitter
            // bunching arrivals (8 unthrottled workers on a local server would make thousands).
            int most = 0;
            for (int i = 0; i < requests.size(); i++) {
                long windowEnd = requests.get(i).receivedNanos() + 1_000_000_000L;
                int inWindow = 0;
                for (int j = i; j < requests.size() && requests.get(j).receivedNanos() < windowEnd; j++) {
                    inWindow++;
                }
                most = Math.max(most, inWindow);
            }
            long first = requests.getFirst().receivedNanos();
            String arrivals = String.join(" ", requests.stream()
                    .map(r -> Long.toString((r.receivedNanos() - first) / 1_000_000)).toList());
            assertThat(most).as("requests in the busiest one-second window; arrivals (ms): %s", arrivals).isLessThanOrEqualTo((int) maxRate + 3);
            double seconds = (requests.getLast().receivedNanos() - requests.getFirst().receivedNanos()) / 1e9;
            double rate = (requests.size() - 1) / seconds;
            assertThat(rate).as("average rate over the whole run").isLessThanOrEqualTo(maxRate * 1.1);
        }
    }

    /**
     * Eight workers queue for one turn per 250 ms: a section waits about 2 s for its turn, twice
     * the 1 s http.timeout, which must only count from sending. None may time out, and sections
     * keep completing at the rate. (The timeout is 1 s, not less, so that a slow answer of a
     * loaded machine is not mistaken for the wait being counted.)
     */
    @Test
    void waitingForATurnUnderMaxRateDoesNotCountAgainstTheHttpTimeout() throws Exception {
        try (RecordingServer server = new RecordingServer()) {
            server.warmUp();
            String config = """
                    shieldpool.log.level = debug
                    shieldpool.pool.size = 8
                    shieldpool.work.type = http
                    shieldpool.work.http.url = "%s"
                    shieldpool.work.http.max-rate = 4
                    shieldpool.work.http.timeout = 1s
                    """.formatted(server.url("/ping"));
            try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.awaitTrue(() -> completed(daemon) >= 20, Duration.ofSeconds(40), "20 completed sections");
                JsonObject summary = daemon.drainNow();
                assertThat(summary.getLong("timed_out")).as(daemon.transcript()).isZero();
                assertThat(summary.getLong("failed")).isZero();
                assertThat(server.requests()).hasSize((int) summary.getLong("completed").longValue());
            }
        }
    }

    /**
     * work.timeout does count the wait for a turn: with eight workers and one turn per 100 ms, the
     * sections at the back of the line time out. Their places in line must go to the next ones:
     * completions go on at the rate instead of drying up behind turns booked for sections that
     * are gone.
     */
    @Test
    void aSectionTimedOutWhileWaitingForItsTurnGivesItBack() throws Exception {
        try (RecordingServer server = new RecordingServer()) {
            server.warmUp();
            String config = """
                    shieldpool.log.level = debug
                    shieldpool.pool.size = 8
                    shieldpool.work.type = http
                    shieldpool.work.timeout = 350ms
                    shieldpool.work.http.url = "%s"
                    shieldpool.work.http.max-rate = 10
                    shieldpool.worker.backoff.initial = 100ms
                    shieldpool.worker.backoff.max = 100ms
                    """.formatted(server.url("/ping"));
            try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.awaitTrue(() -> completed(daemon) >= 20 && timedOut(daemon) >= 10, Duration.ofSeconds(40),
                        "20 completed and 10 timed-out sections");
                int before = completed(daemon);
                daemon.awaitTrue(() -> completed(daemon) >= before + 30, Duration.ofSeconds(40),
                        "30 more completed sections while others time out in line");
                daemon.drainNow();
                assertThat(daemon.events("section.end")).filteredOn(e -> "timed_out".equals(e.getString("outcome")))
                        .allSatisfy(e -> assertThat(e.getString("error")).startsWith("work.timeout of 350 ms passed"));
            }
        }
    }

    /**
     * Sections waiting for a turn under max-rate hold no connection: a server that closes
     * connections idle for 1 s (a short keep-alive timeout) must not fail the sections that wait
     * in a line of 4 s.
     */
    @Test
    void aSectionWaitingForItsTurnHoldsNoConnectionTheServerCouldClose() throws Exception {
        try (RecordingServer server = new RecordingServer(1000)) {
            server.warmUp();
            String config = """
                    shieldpool.log.level = debug
                    shieldpool.pool.size = 8
                    shieldpool.work.type = http
                    shieldpool.work.http.url = "%s"
                    shieldpool.work.http.max-rate = 2
                    shieldpool.worker.backoff.initial = 100ms
                    shieldpool.worker.backoff.max = 100ms
                    """.formatted(server.url("/ping"));
            try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                JsonObject summary = daemon.drainAfterSections(14, Duration.ofSeconds(40));
                assertThat(summary.getLong("failed")).as(daemon.transcript()).isZero();
                assertThat(summary.getLong("completed")).isEqualTo(summary.getLong("started"));
            }
        }
    }

    /**
     * The connection pool follows the pool size: grown by SIGHUP (and by SIGTTIN), the workers
     * hold that many requests at the server at once, none queued behind a connection limit.
     */
    @Test
    void growingThePoolGrowsTheConnectionsToTheTarget() throws Exception {
        try (RecordingServer server = new RecordingServer()) {
            Path file = dir.resolve("grow.conf");
            String base = """
                    shieldpool.log.format = json
                    shieldpool.log.level = debug
                    shieldpool.admin.port = 0
                    shieldpool.work.type = http
                    shieldpool.work.http.url = "%s"
                    """.formatted(server.url("/hold?delay=1500"));
            Files.writeString(file, base + "shieldpool.pool.size = 2\n");
            try (DaemonProcess daemon = DaemonProcess.launch(
                    List.of(DaemonProcess.LAUNCHER.toString(), "--config", file.toString()), Map.of())) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.awaitTrue(() -> server.takeMostInFlight() >= 2, Duration.ofSeconds(15), "2 requests at once");
                // Replaced atomically, as config management does, so the reload never reads half a file.
                Path next = dir.resolve("grow.conf.next");
                Files.writeString(next, base + "shieldpool.pool.size = 12\n");
                Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                daemon.signal("HUP");
                daemon.awaitEvent("reload.complete", Duration.ofSeconds(10));
                daemon.awaitTrue(() -> server.takeMostInFlight() >= 12, Duration.ofSeconds(20), "12 requests at once");
                daemon.signal("TTIN");
                daemon.awaitTrue(() -> server.takeMostInFlight() >= 13, Duration.ofSeconds(20), "13 requests at once");
                JsonObject summary = daemon.drainNow();
                assertThat(summary.getLong("completed")).isEqualTo(summary.getLong("started"));
            }
        }
    }

    private static int completed(DaemonProcess daemon) {
        return DaemonProcess.outcomes(daemon.events()).getOrDefault("completed", 0);
    }

    private static int timedOut(DaemonProcess daemon) {
        return DaemonProcess.outcomes(daemon.events()).getOrDefault("timed_out", 0);
    }

    @Test
    void aSlowAnswerIsTimedOut() throws Exception {
        try (RecordingServer server = new RecordingServer()) {
            String config = """
                    shieldpool.log.level = debug
                    shieldpool.pool.size = 1
                    shieldpool.work.type = http
                    shieldpool.work.http.url = "%s"
                    shieldpool.work.http.timeout = 300ms
                    shieldpool.worker.backoff.initial = 100ms
                    shieldpool.worker.backoff.max = 100ms
                    """.formatted(server.url("/slow?delay=5000"));
            try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                JsonObject end = daemon.awaitEvent("section.end", Duration.ofSeconds(15));
                assertThat(end.getString("outcome")).isEqualTo("timed_out");
                assertThat(end.getString("level")).isEqualTo("WARN");
                assertThat(end.getString("error")).startsWith("work.http.timeout of 300 ms passed (GET http://127.0.0.1:");
                assertThat(end.getLong("elapsed_ms")).isLessThan(4000);
                JsonObject summary = daemon.drainNow();
                assertThat(summary.getLong("timed_out")).isPositive();
                assertThat(summary.getLong("completed")).isZero();
            }
        }
    }

    @Test
    void aRefusedConnectionIsAFailedSectionWithTheBackoff() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.type = http
                shieldpool.work.http.url = "http://127.0.0.1:%d/sync"
                shieldpool.worker.backoff.initial = 200ms
                shieldpool.worker.backoff.max = 400ms
                """.formatted(closedPort);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject summary = daemon.drainAfterSections(4, Duration.ofSeconds(15));
            List<JsonObject> ends = daemon.events("section.end");
            assertThat(ends).allSatisfy(end -> {
                assertThat(end.getString("outcome")).isEqualTo("failed");
                assertThat(end.getString("error")).startsWith("GET http://127.0.0.1:" + closedPort + "/sync: ")
                        .containsIgnoringCase("refused");
            });
            assertThat(summary.getLong("failed")).isEqualTo(ends.size());
            long[] minGapMs = {100, 200, 200, 200, 200, 200, 200, 200}; // half the base: the jitter's floor
            for (int i = 1; i < ends.size() && i <= minGapMs.length; i++) {
                assertThat(Duration.between(DaemonProcess.timestamp(ends.get(i - 1)),
                        DaemonProcess.timestamp(ends.get(i))).toMillis()).as("backoff before failure %d", i + 1)
                        .isGreaterThanOrEqualTo(minGapMs[i - 1] - 5);
            }
        }
    }
}
