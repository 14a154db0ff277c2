package io.shieldpool.e2e;

import io.shieldpool.systemd.NotifyReceiver;
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
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SQLite store's directory removed while the packaged daemon runs: it said 201 "durable" to
 * every POST /jobs and ready on /readyz while writing into a deleted file, lost at the stop. Now:
 * one ERROR line, /readyz 503 with the reason, enqueues refused with 503; the jobs the open file
 * holds still run and ack, and the daemon stops cleanly.
 */
@Timeout(120)
class SqliteFileGoneIT {

    @TempDir
    Path dir;

    @Test
    void aRemovedStoreDirectoryIsOneErrorLineNotReadyAndNoEnqueueWhileHeldJobsStillRun() throws Exception {
        Path storeDir = Files.createDirectory(dir.resolve("store"));
        Path db = storeDir.resolve("jobs.db");
        String config = """
                shieldpool.pool.size = 1
                shieldpool.work.demo { steps = 1, step-duration = 1s, log-steps = false }
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.log.level = debug
                """.formatted(db);
        try (NotifyReceiver systemd = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             DaemonProcess daemon = DaemonProcess.start(dir, config, Map.of("NOTIFY_SOCKET", systemd.address()));
             AdminClient admin = AdminClient.of(daemon);
             HttpClient http = HttpClient.newHttpClient()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            HttpResponse<String> posted = post(http, admin.port(), "[1, 2, 3]");
            assertThat(posted.statusCode()).as(posted.body()).isEqualTo(201);
            daemon.awaitEvent("job.claimed", Duration.ofSeconds(10));

            try (Stream<Path> files = Files.walk(storeDir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }

            JsonObject gone = daemon.awaitEvent("jobs.store-file-gone", Duration.ofSeconds(10));
            assertThat(gone.getString("level")).isEqualTo("ERROR");
            assertThat(gone.getString("path")).isEqualTo(db.toString());
            assertThat(gone.getString("message")).contains(db + " was removed while the daemon ran");

            HttpResponse<String> ready = admin.get("/readyz");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            assertThat(new JsonObject(ready.body()).getString("reason"))
                    .isEqualTo("the job store is lost: its file " + db + " was removed while the daemon ran;"
                            + " enqueues are refused until a restart opens the path again");

            String lost = "its file " + db + " was removed while the daemon ran; enqueues are refused until a restart"
                    + " opens the path again";
            assertThat(new JsonObject(admin.get("/status").body()).getJsonObject("jobs").getString("store_lost"))
                    .as("/status says so too").isEqualTo(lost);
            systemd.await(0, m -> m.has("STATUS") && m.value("STATUS").startsWith("JOB STORE LOST: " + lost + "; 1/1 workers"),
                    Duration.ofSeconds(10), "systemd's STATUS says so too");
            Path statusConfig = Files.writeString(dir.resolve("status.conf"), "shieldpool.admin.port = " + admin.port() + "\n");
            ProcessBuilder statusCommand = new ProcessBuilder(DaemonProcess.LAUNCHER.toString(), "status", "--workers", "0",
                    "--config", statusConfig.toString());
            statusCommand.environment().put("JAVA_HOME", System.getProperty("java.home"));
            ToolRun status = ToolRun.of(statusCommand);
            assertThat(status.out()).as("shieldpool status says so").contains("jobs       STORE LOST: " + lost);

            HttpResponse<String> refused = post(http, admin.port(), "[4]");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(new JsonObject(refused.body()).getString("error"))
                    .isEqualTo("job store: its file " + db + " was removed while the daemon ran;"
                            + " enqueues are refused until a restart opens the path again");

            daemon.awaitTrue(() -> daemon.events("job.done").size() == 3, Duration.ofSeconds(20),
                    "the three jobs the open file holds run and ack");
            daemon.drainNow();
            assertThat(daemon.events("jobs.store-file-gone")).as("one line, not one per check").hasSize(1);
            assertThat(daemon.events("jobs.store-error")).isEmpty();
        }
    }

    private static HttpResponse<String> post(HttpClient http, int port, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jobs"))
                        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
