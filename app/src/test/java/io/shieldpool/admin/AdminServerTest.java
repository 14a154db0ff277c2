package io.shieldpool.admin;

import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.kinds.demo.DemoSettings;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.metrics.PrometheusText;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.PoolView;
import io.shieldpool.control.Supervisor;
import io.shieldpool.kinds.demo.DemoWork;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin server in-process, in front of a real supervisor (or, for what cannot be had on
 * demand, a wedged stand-in), asked over real HTTP.
 */
@Timeout(60)
class AdminServerTest {

    private static final String TOKEN = "test-token-0123456789";

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4));
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicReference<Consumer<String>> signals = new AtomicReference<>();
    private int port;

    @AfterEach
    void close() throws Exception {
        http.close();
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    private static ShieldpoolConfig config(int size, String... more) throws Exception {
        return effective(size, more).config();
    }

    private static io.shieldpool.config.EffectiveConfig effective(int size, String... more) throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", Integer.toString(size));
        props.setProperty("shieldpool.pool.event-loops", "2");
        props.setProperty("shieldpool.work.demo.step-duration", "50ms");
        props.setProperty("shieldpool.work.demo.log-steps", "false");
        props.setProperty("shieldpool.admin.port", "0");
        for (int i = 0; i + 1 < more.length; i += 2) {
            props.setProperty(more[i], more[i + 1]);
        }
        return new ConfigLoader(com.typesafe.config.ConfigFactory.empty(), props, WorkKinds.discover()).loadEffective(Optional.empty());
    }

    private AdminServer startAdmin(ShieldpoolConfig config, PoolView probe) throws Exception {
        AdminServer admin = new AdminServer(config.admin(), probe, "test");
        vertx.deployVerticle(admin).await(10, TimeUnit.SECONDS);
        port = admin.actualPort();
        return admin;
    }

    private Supervisor supervisor(ShieldpoolConfig config) {
        io.shieldpool.config.EffectiveConfig effective = new io.shieldpool.config.EffectiveConfig(config, java.util.Map.of());
        return new Supervisor(effective, () -> effective, c -> new DemoWork(c.work().settings(DemoSettings.class).orElseThrow()), signals::set);
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return send("GET", path, headers);
    }

    private HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> response) {
        assertThat(response.headers().firstValue("content-type")).contains("application/json");
        return new JsonObject(response.body());
    }

    @Test
    void probesFollowTheLifecycleFromBeforeReadyToAfterTheDrain() throws Exception {
        // why 300 ms steps (900 ms sections, begun at the deploy): the drain then lasts most of a
        // section, so the probe below asks while it runs; with the 50 ms steps of the other tests
        // it could end between the state check and the request (seen once on an idle machine).
        ShieldpoolConfig config = config(3, "shieldpool.work.demo.step-duration", "300ms");
        Supervisor supervisor = supervisor(config);
        startAdmin(config, supervisor.view());

        // Up before the pool: alive, not ready.
        HttpResponse<String> ready = get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(json(ready).getString("state")).isEqualTo("starting");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(json(get("/status")).getString("state")).isEqualTo("starting");

        supervisor.deploy(vertx, java.util.List.of()).await(10, TimeUnit.SECONDS);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(json(get("/readyz")).getBoolean("ready")).isTrue();
        HttpResponse<String> health = get("/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health).getString("status")).isEqualTo("ok");

        signals.get().accept("TERM");
        await().atMost(Duration.ofSeconds(5)).until(() -> supervisor.state() != LifecycleState.RUNNING);
        assertThat(supervisor.state()).isEqualTo(LifecycleState.DRAINING);
        HttpResponse<String> draining = get("/readyz");
        assertThat(draining.statusCode()).isEqualTo(503);
        assertThat(json(draining).getString("reason")).startsWith("draining");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(supervisor.state()).as("still draining after the probes").isEqualTo(LifecycleState.DRAINING);
        supervisor.finished().await(10, TimeUnit.SECONDS);
        assertThat(get("/readyz").statusCode()).isEqualTo(503);
        assertThat(json(get("/readyz")).getString("state")).isEqualTo("stopped");
    }

    @Test
    void aWedgedSupervisorLoopFailsHealthzWithTheReasonButNotReadyz() throws Exception {
        PoolView wedged = new PoolView() {
            @Override
            public LifecycleState state() {
                return LifecycleState.RUNNING;
            }

            @Override
            public Future<Void> ping() {
                return Promise.<Void>promise().future(); // never answers
            }

            @Override
            public Future<PoolStatus> status(int workerLimit) {
                return Promise.<PoolStatus>promise().future();
            }

            @Override
            public Future<java.util.Optional<io.shieldpool.view.WorkerStatus>> slowestBusyWorker() {
                return Promise.<java.util.Optional<io.shieldpool.view.WorkerStatus>>promise().future();
            }

            @Override
            public Duration stallAfter() {
                return Duration.ofMinutes(5);
            }
        };
        startAdmin(config(1), wedged);
        HttpResponse<String> health = get("/healthz");
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(json(health).getString("status")).isEqualTo("unresponsive");
        assertThat(json(health).getString("reason")).contains("did not answer within 500 ms");
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void statusAgreesWithThePoolAndListsWorkersById() throws Exception {
        ShieldpoolConfig config = config(7);
        Supervisor supervisor = supervisor(config);
        startAdmin(config, supervisor.view());
        supervisor.deploy(vertx, java.util.List.of()).await(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() ->
                json(get("/status")).getJsonObject("totals").getLong("completed") >= 7);

        JsonObject status = json(get("/status?workers=4"));
        assertThat(status.getString("state")).isEqualTo("running");
        assertThat(status.getString("work")).isEqualTo("demo");
        assertThat(status.getLong("config_version")).isEqualTo(1);
        assertThat(status.getValue("drain")).isNull();
        JsonObject pool = status.getJsonObject("pool");
        assertThat(pool.getInteger("desired")).isEqualTo(7);
        assertThat(pool.getInteger("actual")).isEqualTo(7);
        JsonObject byState = status.getJsonObject("workers_by_state");
        assertThat(byState.stream().mapToInt(e -> (Integer) e.getValue()).sum()).isEqualTo(7);
        assertThat(byState.getInteger("busy")).isEqualTo(pool.getInteger("busy"));
        JsonObject totals = status.getJsonObject("totals");
        assertThat(totals.getLong("started")).isEqualTo(totals.getLong("completed") + totals.getLong("failed")
                + totals.getLong("abandoned") + totals.getLong("in_flight"));
        JsonArray workers = status.getJsonArray("workers");
        assertThat(status.getInteger("workers_listed")).isEqualTo(4);
        assertThat(workers).hasSize(4);
        for (int i = 0; i < workers.size(); i++) {
            JsonObject w = workers.getJsonObject(i);
            assertThat(w.getLong("id")).isEqualTo(i + 1L);
            if (w.getString("state").equals("busy")) {
                assertThat(w.getLong("section")).isPositive();
                assertThat(w.getInteger("steps_total")).isEqualTo(3);
                assertThat(w.getInteger("steps_done")).isBetween(0, 2);
            }
        }
        JsonArray busyAtStep = status.getJsonArray("busy_at_step");
        long busyCounted = 0;
        for (int i = 0; i < busyAtStep.size(); i++) {
            busyCounted += busyAtStep.getLong(i);
        }
        assertThat(busyCounted).isEqualTo(byState.getInteger("busy").longValue());
        assertThat(json(get("/status?workers=0")).getJsonArray("workers")).isEmpty();
    }

    @Test
    void metricsAreValidPrometheusTextAndConsistentWithThemselves() throws Exception {
        ShieldpoolConfig config = config(5);
        Supervisor supervisor = supervisor(config);
        startAdmin(config, supervisor.view());
        supervisor.deploy(vertx, java.util.List.of()).await(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() ->
                json(get("/status")).getJsonObject("totals").getLong("completed") >= 10);

        HttpResponse<String> response = get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        PrometheusText metrics = PrometheusText.parse(response.body());
        double started = metrics.value("shieldpool_sections_started_total", "work", "demo");
        double completed = metrics.value("shieldpool_sections_ended_total", "outcome", "completed");
        double failed = metrics.value("shieldpool_sections_ended_total", "outcome", "failed");
        double abandoned = metrics.value("shieldpool_sections_ended_total", "outcome", "abandoned");
        double inFlight = metrics.value("shieldpool_sections_in_flight");
        assertThat(completed).isGreaterThanOrEqualTo(10);
        assertThat(started).as("one consistent status behind every meter").isEqualTo(completed + failed + abandoned + inFlight);
        assertThat(metrics.value("shieldpool_section_duration_seconds_count")).isEqualTo(completed + failed);
        // Three 50 ms steps: every section lands between 0.1 s and 0.5 s (generous: a loaded machine).
        assertThat(metrics.value("shieldpool_section_duration_seconds_bucket", "le", "0.1")).isZero();
        assertThat(metrics.value("shieldpool_section_duration_seconds_bucket", "le", "2.5")).isEqualTo(completed + failed);
        assertThat(metrics.value("shieldpool_pool_size_actual")).isEqualTo(5);
        assertThat(metrics.value("shieldpool_state", "state", "running")).isEqualTo(1);
        assertThat(metrics.find("jvm_memory_used_bytes")).isNotEmpty();
    }

    @Test
    void withATokenEverythingButTheProbesNeedsIt() throws Exception {
        ShieldpoolConfig config = config(2, "shieldpool.admin.token", TOKEN);
        Supervisor supervisor = supervisor(config);
        startAdmin(config, supervisor.view());
        supervisor.deploy(vertx, java.util.List.of()).await(10, TimeUnit.SECONDS);

        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        String basicRight = "Basic " + Base64.getEncoder().encodeToString(("ops:" + TOKEN).getBytes(StandardCharsets.UTF_8));
        String basicWrong = "Basic " + Base64.getEncoder().encodeToString(("ops:guess").getBytes(StandardCharsets.UTF_8));
        for (String path : new String[]{"/status", "/metrics", "/"}) {
            HttpResponse<String> missing = get(path);
            assertThat(missing.statusCode()).as(path).isEqualTo(401);
            assertThat(missing.headers().allValues("www-authenticate")).anyMatch(v -> v.startsWith("Basic"));
            assertThat(missing.body()).doesNotContain(TOKEN);
            assertThat(get(path, "Authorization", "Bearer wrong-token-0123456789").statusCode()).as(path).isEqualTo(401);
            assertThat(get(path, "Authorization", basicWrong).statusCode()).as(path).isEqualTo(401);
            assertThat(get(path, "Authorization", "Bearer " + TOKEN).statusCode()).as(path).isEqualTo(200);
            assertThat(get(path, "Authorization", basicRight).statusCode()).as(path).isEqualTo(200);
        }
    }

    @Test
    void readOnlyAndStrictAboutWhatItServes() throws Exception {
        ShieldpoolConfig config = config(1);
        Supervisor supervisor = supervisor(config);
        startAdmin(config, supervisor.view());
        supervisor.deploy(vertx, java.util.List.of()).await(10, TimeUnit.SECONDS);
        for (String method : new String[]{"POST", "PUT", "DELETE", "PATCH"}) {
            HttpResponse<String> refused = send(method, "/status");
            assertThat(refused.statusCode()).as(method).isEqualTo(405);
            assertThat(refused.headers().firstValue("allow")).contains("GET, HEAD");
        }
        assertThat(send("HEAD", "/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/nope").statusCode()).isEqualTo(404);
        HttpResponse<String> bad = get("/status?workers=lots");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).getString("error")).isEqualTo("workers: lots (expected: an integer from 0 to 10000)");
        assertThat(get("/status?workers=10001").statusCode()).isEqualTo(400);
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("content-security-policy")).hasValueSatisfying(csp ->
                assertThat(csp).contains("default-src 'none'", "frame-ancestors 'none'"));
        assertThat(page.body()).contains("<title>shieldpool</title>").doesNotContain("http://", "https://");
    }
}
