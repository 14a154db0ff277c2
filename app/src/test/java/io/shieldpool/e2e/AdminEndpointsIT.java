package io.shieldpool.e2e;

import io.shieldpool.metrics.PrometheusText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin endpoints of the real daemon, through start, run and drain, asked over real HTTP. */
@Timeout(120)
class AdminEndpointsIT {

    private static final String POOL = """
            shieldpool.log.level = debug
            shieldpool.pool.size = 4
            shieldpool.work.demo.steps = 3
            shieldpool.work.demo.step-duration = 400ms
            """;

    @TempDir
    Path dir;

    @Test
    void probesMetricsAndStatusFromStartThroughTheDrain() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, POOL); AdminClient admin = AdminClient.of(daemon)) {
            // Listening before `ready`: the probes answer whatever the state, and agree with it.
            HttpResponse<String> early = admin.get("/readyz");
            String earlyState = new JsonObject(early.body()).getString("state");
            assertThat(earlyState).isIn("starting", "running");
            assertThat(early.statusCode()).isEqualTo(earlyState.equals("running") ? 200 : 503);
            assertThat(admin.get("/healthz").statusCode()).isEqualTo(200);
            JsonObject listening = daemon.events("admin.listening").getFirst();
            JsonObject ready = daemon.awaitEvent("ready", Duration.ofSeconds(20));
            assertThat(DaemonProcess.timestamp(listening)).isBeforeOrEqualTo(DaemonProcess.timestamp(ready));

            assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
            assertThat(admin.json("/healthz").getString("status")).isEqualTo("ok");

            // Running: metrics parse and are consistent with themselves.
            daemon.await(e -> "section.end".equals(e.getString("event")), Duration.ofSeconds(10), "a section.end");
            PrometheusText running = PrometheusText.parse(admin.get("/metrics").body());
            assertConserved(running);
            assertThat(running.value("shieldpool_state", "state", "running")).isEqualTo(1);
            assertThat(running.value("shieldpool_pool_size_desired")).isEqualTo(4);
            assertThat(running.value("shieldpool_pool_size_actual")).isEqualTo(4);
            assertThat(running.value("shieldpool_section_duration_seconds_count"))
                    .isEqualTo(running.value("shieldpool_sections_ended_total", "outcome", "completed")
                            + running.value("shieldpool_sections_ended_total", "outcome", "failed"));
            assertThat(running.find("jvm_memory_used_bytes")).isNotEmpty();
            assertThat(running.find("process_cpu_usage")).isNotEmpty();

            // Mid-step, so sections are in flight when the drain begins.
            daemon.await(e -> e.getString("message", "").matches("worker \\d+ section \\d+: step 1 of 3 done"),
                    Duration.ofSeconds(10), "a step 1 line");
            daemon.signal("TERM");
            daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));

            // From the first instant of the drain: not ready, still alive.
            HttpResponse<String> draining = admin.get("/readyz");
            assertThat(draining.statusCode()).isEqualTo(503);
            assertThat(new JsonObject(draining.body()).getString("state")).isEqualTo("draining");
            HttpResponse<String> health = admin.get("/healthz");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(new JsonObject(health.body()).getString("state")).isEqualTo("draining");

            PrometheusText duringDrain = PrometheusText.parse(admin.get("/metrics").body());
            assertConserved(duringDrain);
            assertThat(duringDrain.value("shieldpool_state", "state", "draining")).isEqualTo(1);
            assertThat(duringDrain.value("shieldpool_drain_duration_seconds")).isGreaterThanOrEqualTo(0);

            // /status through the drain: each snapshot agrees with itself and with the events, and
            // the pool shrinks as workers finish their last section (a drain is a shrink to zero).
            Set<String> startedSections = new HashSet<>();
            List<JsonObject> snapshots = new ArrayList<>();
            List<Instant> healthSent = new ArrayList<>();
            List<Integer> healthCodes = new ArrayList<>();
            List<Integer> readyCodes = new ArrayList<>();
            Instant firstRefusal = null;
            while (firstRefusal == null) {
                try {
                    HttpResponse<String> status = admin.get("/status");
                    if (status.statusCode() == 200) {
                        snapshots.add(new JsonObject(status.body()));
                    }
                    readyCodes.add(admin.get("/readyz").statusCode());
                    healthSent.add(Instant.now());
                    healthCodes.add(admin.get("/healthz").statusCode());
                } catch (IOException closed) {
                    firstRefusal = Instant.now();
                }
                Thread.sleep(40);
            }
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
            JsonObject summary = DrainInvariants.check(daemon, false);
            Instant complete = DaemonProcess.timestamp(daemon.events("shutdown.complete").getFirst());
            assertThat(firstRefusal).as("the admin server answered until the pool had stopped").isAfter(complete);
            assertThat(readyCodes).as("readyz during the drain").isNotEmpty().allMatch(code -> code == 503);
            for (int i = 0; i < healthCodes.size(); i++) {
                if (healthSent.get(i).isBefore(complete)) {
                    assertThat(healthCodes.get(i)).as("healthz during the drain").isEqualTo(200);
                }
            }
            assertThat(healthSent).as("healthz asked during the drain").anyMatch(t -> t.isBefore(complete));

            for (JsonObject start : daemon.events("section.start")) {
                startedSections.add(start.getLong("worker") + "/" + start.getLong("section"));
            }
            int previousActual = Integer.MAX_VALUE;
            for (JsonObject status : snapshots) {
                assertThat(status.getString("state")).isIn("draining", "stopped");
                JsonObject totals = status.getJsonObject("totals");
                JsonObject pool = status.getJsonObject("pool");
                JsonArray workers = status.getJsonArray("workers");
                long busyListed = workers.stream().map(JsonObject.class::cast)
                        .filter(w -> w.getString("state").equals("busy")).count();
                assertThat(status.getJsonObject("drain").getLong("sections_left")).isEqualTo(totals.getLong("in_flight"));
                assertThat(totals.getLong("in_flight")).isEqualTo(pool.getLong("busy")).isEqualTo(busyListed);
                assertThat(workers.size()).isEqualTo(pool.getInteger("actual"));
                assertThat(totals.getLong("started")).as("no section starts during a drain")
                        .isEqualTo(summary.getLong("started"));
                assertThat(pool.getInteger("actual")).as("the pool only shrinks during a drain").isLessThanOrEqualTo(previousActual);
                previousActual = pool.getInteger("actual");
                for (Object o : workers) {
                    JsonObject w = (JsonObject) o;
                    if (w.getString("state").equals("busy")) {
                        assertThat(startedSections).contains(w.getLong("id") + "/" + w.getLong("section"));
                        assertThat(w.getInteger("steps_total")).isEqualTo(3);
                    }
                }
            }
            assertThat(snapshots).as("/status answered during the drain").isNotEmpty();

            // Counters seen during the drain agree with the final report: nothing starts after the
            // gate closes, and every section then in flight completed.
            assertThat(duringDrain.value("shieldpool_sections_started_total")).isEqualTo(summary.getDouble("started"));
            assertThat(duringDrain.value("shieldpool_sections_ended_total", "outcome", "completed")
                    + duringDrain.value("shieldpool_sections_in_flight")).isEqualTo(summary.getDouble("completed"));
            assertThat(duringDrain.value("shieldpool_sections_ended_total", "outcome", "failed"))
                    .isEqualTo(summary.getDouble("failed")).isZero();
            assertThat(duringDrain.value("shieldpool_sections_ended_total", "outcome", "abandoned"))
                    .isEqualTo(summary.getDouble("abandoned")).isZero();
        }
    }

    /** started = completed + failed + abandoned + in flight, within one scrape. */
    private static void assertConserved(PrometheusText metrics) {
        assertThat(metrics.value("shieldpool_sections_started_total", "work", "demo")).isEqualTo(
                metrics.value("shieldpool_sections_ended_total", "outcome", "completed")
                        + metrics.value("shieldpool_sections_ended_total", "outcome", "failed")
                        + metrics.value("shieldpool_sections_ended_total", "outcome", "abandoned")
                        + metrics.value("shieldpool_sections_in_flight"));
    }

    @Test
    void statusFollowsAResize() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, POOL); AdminClient admin = AdminClient.of(daemon)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.signal("TTIN");
            awaitPool(admin, 5, 5);
            daemon.signal("TTOU");
            // why wait between the two: a second SIGTTOU sent while the first is still pending is
            // merged with it by the kernel (standard signals are not queued), so the pool would
            // shrink by one only (seen once in a clean-clone CI run).
            awaitDesired(admin, 4);
            daemon.signal("TTOU");
            // Shrinking retires workers after their section: actual follows desired, never cutting.
            awaitPool(admin, 3, 3);
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            DrainInvariants.check(daemon, false);
        }
    }

    private static void awaitDesired(AdminClient admin, int desired) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonObject status;
        do {
            status = admin.json("/status");
            if (status.getJsonObject("pool").getInteger("desired") == desired) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("pool never reached desired " + desired + ": " + status);
    }

    private static void awaitPool(AdminClient admin, int desired, int actual) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonObject status;
        do {
            status = admin.json("/status");
            JsonObject pool = status.getJsonObject("pool");
            int counted = status.getJsonObject("workers_by_state").stream().mapToInt(e -> (Integer) e.getValue()).sum();
            assertThat(counted).isEqualTo(pool.getInteger("actual"));
            assertThat(status.getJsonArray("workers")).hasSize(pool.getInteger("actual"));
            if (pool.getInteger("desired") == desired && pool.getInteger("actual") == actual) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("pool never reached desired " + desired + ", actual " + actual + ": " + status);
    }

    @Test
    void aTakenAdminPortIsOneErrorLineAndExit69() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             DaemonProcess daemon = DaemonProcess.start(dir, "shieldpool.admin.port = " + taken.getLocalPort())) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isEqualTo(69);
            JsonObject failed = daemon.events("admin.failed").getFirst();
            assertThat(failed.getString("level")).isEqualTo("ERROR");
            assertThat(failed.getInteger("port")).isEqualTo(taken.getLocalPort());
            assertThat(failed.getString("message")).contains("127.0.0.1:" + taken.getLocalPort(),
                    "shieldpool.admin.port", "exit 69");
            assertThat(daemon.events("ready")).as("the pool never started").isEmpty();
            assertThat(daemon.stdout()).noneMatch(l -> l.startsWith("\tat "));
        }
    }

    @Test
    void disabledAdminServesNothingAndTheDaemonRunsAsBefore() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, POOL + "shieldpool.admin.enabled = false\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            assertThat(daemon.events("config").getFirst().getString("shieldpool.admin.enabled")).isEqualTo("false");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(daemon.events("admin.listening")).isEmpty();
            DrainInvariants.check(daemon, false);
        }
    }
}
