package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The jobs' live keys on the packaged daemon: the file edited, then {@code shieldpool reload} or
 * SIGHUP, and each new value seen at work: a delayed job is picked up at the new poll interval
 * (not when the old one runs out), failing jobs get the new max-attempts, done jobs older than the
 * new retention are deleted at once; restart-only jobs keys are reported as such and keep their
 * value.
 */
@Timeout(120)
class JobsReloadIT {

    @TempDir
    Path dir;

    private Path file;
    private Path runtime;

    private String config(String pollInterval, int maxAttempts, String retention, String restartOnly) {
        return """
                shieldpool.log.format = json
                shieldpool.admin.port = 0
                shieldpool.pool.size = 2
                shieldpool.work.type = exec
                # a payload with "ok" in it succeeds, any other fails
                shieldpool.work.exec.command = ["/bin/sh", "-c", "grep -q ok"]
                shieldpool.worker.backoff { initial = 1ms, max = 1ms }
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.jobs.retry { backoff = 10ms, max-backoff = 10ms }
                shieldpool.jobs.poll-interval = %s
                shieldpool.jobs.max-attempts = %d
                shieldpool.jobs.retention.done = %s
                %s
                """.formatted(dir.resolve("jobs.db"), pollInterval, maxAttempts, retention, restartOnly);
    }

    /** Replaces the file atomically, as editors and config management do. */
    private void rewrite(String content) throws Exception {
        Path next = dir.resolve("jobs.conf.next");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private ToolRun reloadCommand(long pid) throws Exception {
        List<String> command = new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString(), "reload", "--pid",
                Long.toString(pid)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("SHIELDPOOL_RUNTIME_DIR", runtime.toString());
        builder.environment().remove("JOURNAL_STREAM");
        return ToolRun.of(builder);
    }

    private static JsonObject reloadComplete(DaemonProcess daemon, int nth) throws InterruptedException {
        daemon.awaitTrue(() -> daemon.events("reload.complete").size() >= nth, Duration.ofSeconds(20),
                "reload " + nth + " complete");
        return daemon.events("reload.complete").get(nth - 1);
    }

    private static long post(HttpClient http, AdminClient admin, String body) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin.port() + "/jobs"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return new JsonObject(response.body()).getJsonArray("jobs").getJsonObject(0).getLong("id");
    }

    private static long count(AdminClient admin, String state) throws Exception {
        return admin.json("/jobs/stats").getJsonArray("queues").getJsonObject(0).getLong(state);
    }

    private static List<JsonObject> eventsOf(DaemonProcess daemon, String event, long job) {
        return daemon.events(event).stream().filter(e -> e.getLong("job", -1L) == job).toList();
    }

    @Test
    void liveJobsKeysTakeEffectAtTheReloadAndRestartOnlyOnesAreReported() throws Exception {
        file = dir.resolve("jobs.conf");
        runtime = dir.resolve("run");
        Files.writeString(file, config("30s", 2, "24h", ""));
        try (DaemonProcess daemon = DaemonProcess.launch(
                List.of(DaemonProcess.LAUNCHER.toString(), "--config", file.toString()),
                Map.of("SHIELDPOOL_RUNTIME_DIR", runtime.toString()));
             AdminClient admin = AdminClient.of(daemon);
             HttpClient http = HttpClient.newHttpClient()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));

            // poll-interval: at 30 s, a job due in 300 ms waits for the next poll, up to 30 s away...
            long delayed = post(http, admin, "{\"payload\": {\"ok\": 1}, \"delay_ms\": 300}");
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4))
                    .until(() -> count(admin, "ready") == 1 && count(admin, "done") == 0);
            // ...and after a reload to 200 ms it is claimed within the new interval, not at the old poll
            rewrite(config("200ms", 2, "24h", ""));
            daemon.signal("HUP");
            assertThat(reloadComplete(daemon, 1).getJsonArray("changed").getList())
                    .containsExactly("shieldpool.jobs.poll-interval");
            await().atMost(Duration.ofSeconds(10)).until(() -> count(admin, "done") == 1);

            // max-attempts: a job enqueued without its own limit is dead after 2 attempts...
            long before = post(http, admin, "{\"payload\": {\"fails\": 1}}");
            daemon.awaitTrue(() -> !eventsOf(daemon, "job.dead", before).isEmpty(), Duration.ofSeconds(20), "dead");
            assertThat(eventsOf(daemon, "job.dead", before).getFirst().getInteger("attempt")).isEqualTo(2);
            // ...and after `shieldpool reload` to 4, with restart-only keys changed beside it, after 4
            rewrite(config("200ms", 4, "24h", "shieldpool.jobs.queue = other\nshieldpool.jobs.claim-batch = 8"));
            ToolRun reload = reloadCommand(daemon.pid());
            assertThat(reload.exitCode()).as(reload.out()).isZero();
            assertThat(reload.out()).contains("applied (config version 3)", "shieldpool.jobs.max-attempts");
            JsonObject second = reloadComplete(daemon, 2);
            assertThat(second.getJsonArray("changed").getList()).containsExactly("shieldpool.jobs.max-attempts");
            assertThat(second.getJsonArray("restart_needed").getList())
                    .containsExactly("shieldpool.jobs.claim-batch", "shieldpool.jobs.queue");
            assertThat(daemon.events("reload.restart-needed")).extracting(e -> e.getString("key"))
                    .containsExactlyInAnyOrder("shieldpool.jobs.claim-batch", "shieldpool.jobs.queue");
            long after = post(http, admin, "{\"payload\": {\"fails\": 2}}");
            daemon.awaitTrue(() -> !eventsOf(daemon, "job.dead", after).isEmpty(), Duration.ofSeconds(20), "dead");
            assertThat(eventsOf(daemon, "job.dead", after).getFirst().getInteger("attempt")).isEqualTo(4);
            assertThat(eventsOf(daemon, "job.failed", after)).hasSize(3);
            assertThat(eventsOf(daemon, "job.failed", before)).hasSize(1);
            // the queue is restart-only: this daemon still serves "default" (the job above ran)
            assertThat(admin.json("/status").getJsonObject("jobs").getString("queue")).isEqualTo("default");

            // retention.done: at 24h the done job stays; at 1s it is deleted at once (not at the
            // next minute's sweep), the dead jobs are kept
            assertThat(count(admin, "done")).isEqualTo(1);
            Thread.sleep(1_100); // the done job is now older than the new retention
            rewrite(config("200ms", 4, "1s", "shieldpool.jobs.queue = other\nshieldpool.jobs.claim-batch = 8"));
            daemon.signal("HUP");
            assertThat(reloadComplete(daemon, 3).getJsonArray("changed").getList())
                    .containsExactly("shieldpool.jobs.retention.done");
            await().atMost(Duration.ofSeconds(10)).until(() -> count(admin, "done") == 0);
            assertThat(count(admin, "dead")).isEqualTo(2);
            assertThat(delayed).isPositive();

            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
        }
    }
}
