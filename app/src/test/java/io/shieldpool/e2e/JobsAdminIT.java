package io.shieldpool.e2e;

import io.vertx.core.json.JsonArray;
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
import java.util.ArrayList;
import java.util.List;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jobs interfaces against the packaged daemon: POST /jobs and GET /jobs/stats on the admin
 * server, the enqueue and jobs commands run while the daemon runs (and while it does not), the
 * queue in /status, /metrics and `shieldpool status`, and the single-instance refusal.
 */
@Timeout(180)
class JobsAdminIT {

    @TempDir
    Path dir;

    private String settings(Path db) {
        return """
                shieldpool.pool.size = 4
                shieldpool.work.demo { steps = 1, step-duration = 0, log-steps = false }
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.jobs.poll-interval = 30s
                shieldpool.log.level = debug
                """.formatted(db);
    }

    private Path configFile(String content) throws Exception {
        Path file = dir.resolve("cli-" + System.nanoTime() + ".conf");
        Files.writeString(file, "shieldpool.log.format = json\n" + content);
        return file;
    }

    private static ToolRun cli(Path config, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString()));
        command.addAll(List.of(args));
        command.addAll(args[0].equals("check-config") ? List.of(config.toString()) : List.of("--config", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_CONFIG");
        if (stdin != null) {
            Path in = Files.createTempFile("stdin", ".txt");
            Files.writeString(in, stdin);
            builder.redirectInput(in.toFile());
        }
        return ToolRun.of(builder);
    }

    @Test
    void jobsEnqueuedOverHttpAndByTheCliAreRunAndShown() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path cliConfig = configFile(settings(db));
        try (DaemonProcess daemon = DaemonProcess.start(dir, settings(db));
             AdminClient admin = AdminClient.of(daemon);
             HttpClient http = HttpClient.newHttpClient()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));

            HttpResponse<String> one = post(http, admin.port(), "{\"payload\": {\"id\": 7}, \"key\": \"seven\"}");
            assertThat(one.statusCode()).as(one.body()).isEqualTo(201);
            long id = new JsonObject(one.body()).getJsonArray("jobs").getJsonObject(0).getLong("id");
            HttpResponse<String> again = post(http, admin.port(), "{\"payload\": {\"id\": 8}, \"key\": \"seven\"}");
            assertThat(new JsonObject(again.body()).getJsonArray("jobs").getJsonObject(0).getMap())
                    .containsEntry("id", (int) id).containsEntry("created", false);
            HttpResponse<String> many = post(http, admin.port(), "[{\"a\":1}, {\"a\":2}, 3]");
            assertThat(new JsonObject(many.body()).getJsonArray("jobs")).hasSize(3);
            HttpResponse<String> bad = post(http, admin.port(), "{\"payload\": 1, \"max_attempts\": 0}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(new JsonObject(bad.body()).getString("error")).isEqualTo("body.max_attempts: 0 (expected: an integer >= 1)");
            HttpResponse<String> misspelt = post(http, admin.port(), "{\"payload\": 1, \"qeueu\": \"other\"}");
            assertThat(misspelt.statusCode()).isEqualTo(400);
            assertThat(new JsonObject(misspelt.body()).getString("error")).isEqualTo("body.qeueu: \"other\" (expected: one of "
                    + "the fields payload, queue, key, max_attempts, delay_ms)");
            // a run-at with no epoch milliseconds once ended the store thread: every later enqueue and claim failed
            HttpResponse<String> farOff = post(http, admin.port(), "{\"payload\": 1, \"delay_ms\": 9223372036854775807}");
            assertThat(farOff.statusCode()).as(farOff.body()).isEqualTo(400);
            assertThat(new JsonObject(farOff.body()).getString("error"))
                    .startsWith("body.delay_ms: 9223372036854775807 (expected: whole milliseconds from 0 to ");
            ToolRun farOffCli = cli(cliConfig, null, "enqueue", "--delay", "100000000d", "1");
            assertThat(farOffCli.exitCode()).as(farOffCli.out()).isEqualTo(64);
            assertThat(farOffCli.out()).contains("--delay: 100000000d (expected: a duration from 0 to 365d)");

            // The CLI in another process, while the daemon runs: its commit wakes the daemon (the
            // poll interval is 30 s here, so a prompt pick-up can only come from the wake-up).
            ToolRun enqueued = cli(cliConfig, "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n", "enqueue", "--quiet", "-");
            assertThat(enqueued.exitCode()).as(enqueued.out()).isZero();
            assertThat(enqueued.out()).contains("3 enqueued");
            daemon.awaitTrue(() -> {
                try {
                    return jobsDone(admin) == 7;
                } catch (Exception e) {
                    return false;
                }
            }, Duration.ofSeconds(10), "7 jobs done without waiting for a poll");

            JsonObject status = admin.json("/status");
            assertThat(status.getJsonObject("jobs").getString("queue")).isEqualTo("default");
            String metrics = admin.get("/metrics").body();
            assertThat(metrics).contains("shieldpool_jobs{queue=\"default\",state=\"done\"} 7.0")
                    .contains("shieldpool_jobs_events_total{event=\"done\",queue=\"default\"} 7.0");

            ToolRun show = cli(cliConfig, null, "jobs", "show", Long.toString(id), "--json");
            assertThat(show.exitCode()).as(show.out()).isZero();
            JsonObject shown = new JsonObject(show.out().substring(show.out().indexOf('{')));
            assertThat(shown.getString("state")).isEqualTo("done");
            assertThat(shown.getString("unique_key")).isEqualTo("seven");
            assertThat(shown.getJsonObject("payload").getInteger("id")).isEqualTo(7);

            ToolRun bulkBad = cli(cliConfig, "{\"ok\":1}\nnot json\n", "enqueue", "-");
            assertThat(bulkBad.exitCode()).isEqualTo(64);
            assertThat(bulkBad.out()).contains("stdin line 2 (1 earlier job(s) not enqueued): not json (expected: a JSON value");

            DaemonProcess second = DaemonProcess.start(dir, settings(db));
            assertThat(second.awaitExit(Duration.ofSeconds(30))).as("a second daemon on the same file").isEqualTo(69);
            assertThat(second.events("jobs.failed")).singleElement()
                    .satisfies(e -> assertThat(e.getString("message")).contains("in use by another shieldpool daemon (pid "
                            + daemon.pid() + ")"));
            second.close();
            daemon.drainNow();
        }
        ToolRun stats = cli(cliConfig, null, "jobs", "stats", "--json");
        assertThat(stats.exitCode()).as(stats.out()).isZero();
        JsonArray queues = new JsonObject(stats.out().substring(stats.out().indexOf('{'))).getJsonArray("queues");
        assertThat(queues.getJsonObject(0).getLong("done")).isEqualTo(7);
        assertThat(queues.getJsonObject(0).getLong("running")).isZero();
    }

    @Test
    void aFailingJobIsRetriedThenDeadThenRetriedByTheOperator() throws Exception {
        Path db = dir.resolve("jobs.db");
        String failing = settings(db) + """
                shieldpool.work.demo.failure-probability = 1.0
                shieldpool.jobs.retry.backoff = 50ms
                shieldpool.worker.backoff.initial = 1ms
                shieldpool.worker.backoff.max = 1ms
                """;
        Path cliConfig = configFile(failing);
        ToolRun enqueued = cli(cliConfig, null, "enqueue", "--max-attempts", "3", "{\"x\":1}");
        assertThat(enqueued.exitCode()).as(enqueued.out()).isZero();
        long id = Long.parseLong(enqueued.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        try (DaemonProcess daemon = DaemonProcess.start(dir, failing.replace("30s", "100ms"))) {
            JsonObject dead = daemon.awaitEvent("job.dead", Duration.ofSeconds(30));
            assertThat(dead.getLong("job")).isEqualTo(id);
            assertThat(daemon.events("job.failed")).hasSize(2)
                    .allSatisfy(e -> assertThat(e.getString("next_attempt_at")).isNotBlank());
            ToolRun retried = cli(cliConfig, null, "jobs", "retry", Long.toString(id));
            assertThat(retried.exitCode()).as(retried.out()).isZero();
            daemon.awaitTrue(() -> daemon.events("job.dead").size() == 2, Duration.ofSeconds(30), "dead again after a retry");
            daemon.drainNow();
        }
        ToolRun list = cli(cliConfig, null, "jobs", "list", "--state", "dead");
        assertThat(list.out()).contains(Long.toString(id)).contains("3/3");
        ToolRun purge = cli(cliConfig, null, "jobs", "purge-dead");
        assertThat(purge.out()).contains("1 dead job(s) deleted");
    }

    @Test
    void anExecJobGetsItsPayloadOnStdinAndItsIdAttemptAndQueueInItsEnvironment() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path out = Files.createDirectories(dir.resolve("out"));
        String exec = """
                shieldpool.pool.size = 2
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["/bin/sh", "-c", "cat > %s/$SHIELDPOOL_JOB_ID.json; echo $SHIELDPOOL_JOB_ATTEMPT $SHIELDPOOL_JOB_QUEUE > %s/$SHIELDPOOL_JOB_ID.env"]
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.jobs.queue = imports
                shieldpool.log.level = debug
                """.formatted(out, out, db);
        Path cliConfig = configFile(exec);
        // 200 KB: more than a pipe holds, so a stdin that had to be fed while the command runs would show
        String big = "x".repeat(200_000);
        ToolRun enqueued = cli(cliConfig, "{\"file\": \"a.csv\", \"rows\": [1, 2], \"big\": \"" + big + "\"}\n",
                "enqueue", "-");
        assertThat(enqueued.exitCode()).as(enqueued.out()).isZero();
        long id = Long.parseLong(enqueued.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        try (DaemonProcess daemon = DaemonProcess.start(dir, exec)) {
            daemon.awaitEvent("job.done", Duration.ofSeconds(30));
            daemon.drainNow();
        }
        JsonObject received = new JsonObject(Files.readString(out.resolve(id + ".json")));
        assertThat(received.getString("file")).isEqualTo("a.csv");
        assertThat(received.getString("big")).isEqualTo(big);
        assertThat(Files.readString(out.resolve(id + ".env")).strip()).isEqualTo("1 imports");
    }

    @Test
    void aPayloadPostedOverHttpReachesTheSectionAsWrittenNumbersIncluded() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path out = Files.createDirectories(dir.resolve("out"));
        String exec = """
                shieldpool.pool.size = 1
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["/bin/sh", "-c", "cat > %s/$SHIELDPOOL_JOB_ID.json"]
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.log.level = debug
                """.formatted(out, db);
        // decoded and encoded again, this reached the command as {"amount":0.1,"pi":3.141592653589793,"big":"Infinity"}
        String payload = "{\"amount\": 0.10000000000000000001, \"pi\": 3.14159265358979323846, \"big\": 1e400}";
        try (DaemonProcess daemon = DaemonProcess.start(dir, exec);
             AdminClient admin = AdminClient.of(daemon);
             HttpClient http = HttpClient.newHttpClient()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            HttpResponse<String> posted = post(http, admin.port(), "{\"jobs\": [{\"payload\": " + payload + "}]}");
            assertThat(posted.statusCode()).as(posted.body()).isEqualTo(201);
            long id = new JsonObject(posted.body()).getJsonArray("jobs").getJsonObject(0).getLong("id");
            daemon.awaitEvent("job.done", Duration.ofSeconds(30));
            daemon.drainNow();
            assertThat(Files.readString(out.resolve(id + ".json"))).isEqualTo(payload);
        }
    }

    @Test
    void anHttpJobFillsTheUrlAndBodyFromItsPayload() throws Exception {
        Path db = dir.resolve("jobs.db");
        try (RecordingServer server = new RecordingServer()) {
            String http = """
                    shieldpool.pool.size = 2
                    shieldpool.work.type = http
                    shieldpool.work.http.method = POST
                    shieldpool.work.http.url = "%s"
                    shieldpool.work.http.body = "{\\"item\\": {id}, \\"job\\": {job.id}, \\"attempt\\": {job.attempt}}"
                    shieldpool.jobs.store = sqlite
                    shieldpool.jobs.sqlite.path = "%s"
                    shieldpool.jobs.max-attempts = 1
                    shieldpool.log.level = debug
                    """.formatted(server.url("/items/{id}?name={name}"), db);
            Path cliConfig = configFile(http);
            ToolRun ok = cli(cliConfig, null, "enqueue", "{\"id\": 42, \"name\": \"a b\"}");
            ToolRun missing = cli(cliConfig, null, "enqueue", "{\"name\": \"no id\"}");
            assertThat(ok.exitCode()).as(ok.out()).isZero();
            assertThat(missing.exitCode()).as(missing.out()).isZero();
            long okId = Long.parseLong(ok.out().strip().lines().reduce((a, b) -> b).orElseThrow());
            try (DaemonProcess daemon = DaemonProcess.start(dir, http)) {
                daemon.awaitEvent("job.done", Duration.ofSeconds(30));
                JsonObject dead = daemon.awaitEvent("job.dead", Duration.ofSeconds(30));
                assertThat(dead.getString("error")).contains("payload has no field id");
                daemon.drainNow();
            }
            assertThat(server.requests()).singleElement().satisfies(r -> {
                assertThat(r.uri()).isEqualTo("/items/42?name=a%20b");
                assertThat(new JsonObject(r.body()).getMap()).containsEntry("item", 42).containsEntry("job", (int) okId)
                        .containsEntry("attempt", 1);
            });
        }
    }

    @Test
    void aBadJobsKeyIsOneLineAndExit78() throws Exception {
        ToolRun run = cli(configFile("shieldpool.jobs.store = postgres\nshieldpool.jobs.max-attempts = 0\n"), null, "check-config");
        assertThat(run.exitCode()).isEqualTo(78);
        assertThat(run.out()).contains("shieldpool.jobs.store: postgres (expected: one of none, postgresql, sqlite) at ")
                .contains("shieldpool.jobs.max-attempts: 0 (expected: an integer >= 1) at ");
    }

    private static long jobsDone(AdminClient admin) throws Exception {
        JsonObject stats = admin.json("/jobs/stats");
        return stats.getJsonArray("queues").getJsonObject(0).getLong("done");
    }

    private static HttpResponse<String> post(HttpClient http, int port, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jobs"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

}
