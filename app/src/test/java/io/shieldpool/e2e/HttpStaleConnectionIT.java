package io.shieldpool.e2e;

import io.shieldpool.metrics.PrometheusText;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The http kind against a server that closes kept-alive connections just as the daemon reuses
 * them ({@link StaleKeepAliveServer}: every connection's second request meets a closed or reset
 * socket, with no byte of an answer). An idempotent request is sent again once on a fresh
 * connection and the section completes; a POST is never sent twice and fails with one line naming
 * the URL; a request whose answer had begun is never sent again.
 */
@Timeout(90)
class HttpStaleConnectionIT {

    @TempDir
    Path dir;

    /**
     * A daemon's config: {@code poolSize} workers sending GET {@code url} (or as {@code lines} say),
     * logging at DEBUG (so http.retry shows), retrying a failed section after 50 ms.
     */
    private static String config(int poolSize, String url, String... lines) {
        return """
                shieldpool.log.level = debug
                shieldpool.pool.size = %d
                shieldpool.work.type = http
                shieldpool.work.http.url = "%s"
                shieldpool.worker.backoff.initial = 50ms
                shieldpool.worker.backoff.max = 50ms
                """.formatted(poolSize, url) + String.join("\n", lines) + "\n";
    }

    @Test
    void anIdempotentRequestThatMetAClosedKeptAliveConnectionIsSentAgainOnAFreshOne() throws Exception {
        try (StaleKeepAliveServer server = new StaleKeepAliveServer(StaleKeepAliveServer.Drop.CLOSE_OR_RESET)) {
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(2, server.url("/items")))) {
                AdminClient admin = AdminClient.of(daemon);
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.awaitTrue(() -> daemon.events("section.end").size() >= 16, Duration.ofSeconds(30), "16 sections");
                PrometheusText metrics = PrometheusText.parse(admin.get("/metrics").body());
                JsonObject summary = daemon.drainNow();

                assertThat(summary.getLong("failed")).as(daemon.transcript()).isZero();
                assertThat(summary.getLong("completed")).isEqualTo(summary.getLong("started"));
                assertThat(server.answered()).as("one answer per section").isEqualTo(summary.getLong("completed"));
                assertThat(server.dropped()).as("every section after a connection's first met it closed")
                        .isGreaterThanOrEqualTo(5);
                assertThat(metrics.value("shieldpool_http_stale_connections_total", "action", "retried"))
                        .isGreaterThanOrEqualTo(5);
                assertThat(metrics.value("shieldpool_http_stale_connections_total", "action", "failed")).isZero();
                List<JsonObject> retries = daemon.events("http.retry");
                assertThat(retries).as("one retry per request the server dropped").hasSize((int) server.dropped());
                assertThat(retries).extracting(r -> r.getString("error"))
                        .as("both ways a connection goes away: closed and reset")
                        .contains("Connection was closed", "Connection reset");
                assertThat(retries).allSatisfy(r -> {
                    assertThat(r.getString("level")).isEqualTo("DEBUG");
                    assertThat(r.getString("message")).startsWith("GET " + server.url("/items")
                            + ": the server closed the kept-alive connection before answering (");
                });
                assertThat(daemon.events()).as("Vert.x logs no reset at ERROR").noneMatch(e -> "ERROR".equals(e.getString("level")));
                assertThat(daemon.stderr()).as("no stack trace of the resets").noneMatch(line -> line.contains("\tat "));
            }
        }
    }

    @Test
    void aPostThatMetAClosedKeptAliveConnectionIsNotSentTwice() throws Exception {
        try (StaleKeepAliveServer server = new StaleKeepAliveServer(StaleKeepAliveServer.Drop.CLOSE)) {
            String url = server.url("/orders");
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(1, url, "shieldpool.work.http.method = POST",
                    "shieldpool.work.http.body = \"{\\\"order\\\": 1}\""))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                JsonObject summary = daemon.drainAfterSections(8, Duration.ofSeconds(30));

                List<JsonObject> failed = daemon.events("section.end").stream()
                        .filter(e -> "failed".equals(e.getString("outcome"))).toList();
                assertThat(failed).as(daemon.transcript()).hasSizeGreaterThanOrEqualTo(3);
                assertThat(failed).allSatisfy(e -> assertThat(e.getString("error")).isEqualTo("POST " + url
                        + ": the server closed the kept-alive connection before answering (Connection was closed); "
                        + "not sent again: a POST may have reached the server (only GET, HEAD, OPTIONS, PUT, DELETE "
                        + "or a request with an Idempotency-Key header are)"));
                assertThat(daemon.events("http.retry")).isEmpty();
                assertThat(server.requests()).as("each section's POST reached the server once")
                        .hasSize((int) summary.getLong("started").longValue())
                        .allSatisfy(r -> assertThat(r.body()).isEqualTo("{\"order\": 1}"));
                assertThat(server.dropped()).isEqualTo(summary.getLong("failed"));
            }
        }
    }

    @Test
    void aRequestWhoseAnswerHadBegunIsNotSentAgain() throws Exception {
        try (StaleKeepAliveServer server = new StaleKeepAliveServer(StaleKeepAliveServer.Drop.ANSWER_BEGUN_THEN_RESET)) {
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(1, server.url("/items")))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                JsonObject summary = daemon.drainAfterSections(6, Duration.ofSeconds(30));

                List<JsonObject> failed = daemon.events("section.end").stream()
                        .filter(e -> "failed".equals(e.getString("outcome"))).toList();
                assertThat(failed).as(daemon.transcript()).hasSizeGreaterThanOrEqualTo(2);
                assertThat(failed).allSatisfy(e -> assertThat(e.getString("error")).isEqualTo("GET "
                        + server.url("/items") + ": Connection reset after part of an answer had arrived (not sent again)"));
                assertThat(daemon.events("http.retry")).isEmpty();
                assertThat(server.requests()).hasSize((int) summary.getLong("started").longValue());
            }
        }
    }

    /** A retry that fails too fails the section with one line saying it was the retry and why it was sent. */
    @Test
    void aRetryThatFailsSaysItWasSentAgainAfterTheServerClosedAKeptAliveConnection() throws Exception {
        try (StaleKeepAliveServer server = new StaleKeepAliveServer(StaleKeepAliveServer.Drop.CLOSE_THEN_REFUSE)) {
            String url = server.url("/items");
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(1, url))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.drainAfterSections(2, Duration.ofSeconds(30));

                List<JsonObject> ends = daemon.events("section.end");
                assertThat(ends.get(0).getString("outcome")).as(daemon.transcript()).isEqualTo("completed");
                assertThat(daemon.events("http.retry")).as("the second section's request, sent again").hasSize(1);
                assertThat(ends.get(1).getString("outcome")).isEqualTo("failed");
                assertThat(ends.get(1).getString("error")).startsWith("GET " + url + ": Connection refused")
                        .endsWith(" (on a fresh connection, sent again after the server closed a kept-alive one)");
                assertThat(server.requests()).extracting(StaleKeepAliveServer.Request::connection)
                        .as("the second request dropped on the first connection, the retry refused").containsExactly(1, 1);
            }
        }
    }

    /**
     * The retry runs on the first attempt's http.timeout clock: the first attempt learns only after
     * 1.5 s that the server closed the connection, the retry's fresh connection is never answered,
     * and the section times out 2 s after its first send, not 2 s after the retry.
     */
    @Test
    void theRetryRunsWithinTheFirstAttemptsHttpTimeout() throws Exception {
        try (StaleKeepAliveServer server = new StaleKeepAliveServer(StaleKeepAliveServer.Drop.LATE_CLOSE_THEN_SILENCE)) {
            String url = server.url("/items");
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(1, url, "shieldpool.work.http.timeout = 2s"))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.drainAfterSections(2, Duration.ofSeconds(30));

                List<JsonObject> ends = daemon.events("section.end");
                assertThat(ends.get(0).getString("outcome")).isEqualTo("completed");
                JsonObject retried = ends.get(1);
                assertThat(daemon.events("http.retry")).hasSize(1);
                assertThat(retried.getString("outcome")).as(daemon.transcript()).isEqualTo("timed_out");
                assertThat(retried.getString("error")).isEqualTo("work.http.timeout of 2000 ms passed (GET " + url + ")");
                // One clock: about 2 s from the first send; a clock restarted at the retry would end
                // it 1.5 s later than that.
                assertThat(retried.getLong("elapsed_ms")).isLessThan(2000 + StaleKeepAliveServer.LATE_CLOSE_MS - 500);
                assertThat(server.requests()).extracting(StaleKeepAliveServer.Request::connection)
                        .as("first attempt and retry on two connections").startsWith(1, 1, 2);
            }
        }
    }
}
