package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** SIGHUP reloads, live resizes and SIGTTIN/SIGTTOU on the real daemon. */
@Timeout(180)
class LiveTuningIT {

    private static final String BASE = """
            shieldpool.log.format = json
            shieldpool.log.level = debug
            shieldpool.admin.port = 0
            shieldpool.pool.event-loops = 2
            shieldpool.work.demo.steps = 3
            shieldpool.work.demo.step-duration = 100ms
            shieldpool.work.demo.log-steps = false
            """;

    @TempDir
    Path dir;

    private Path file;

    private DaemonProcess start(String extra) throws Exception {
        file = dir.resolve("live.conf");
        Files.writeString(file, BASE + extra);
        return DaemonProcess.launch(List.of(DaemonProcess.LAUNCHER.toString(), "--config", file.toString()), Map.of());
    }

    /**
     * Replaces the file atomically, as editors and config management do: a reload racing a
     * plain truncate-and-write could read a half-written file (valid HOCON, wrong values).
     */
    private void rewrite(String extra) throws Exception {
        Path next = dir.resolve("live.conf.next");
        Files.writeString(next, BASE + extra);
        Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Workers alive now, from the events: started minus retired minus died. */
    private static Set<Long> alive(DaemonProcess daemon) {
        Set<Long> alive = new HashSet<>();
        for (JsonObject e : daemon.events()) {
            switch (e.getString("event", "")) {
                case "worker.started" -> alive.add(e.getLong("worker"));
                case "worker.retired", "worker.died" -> alive.remove(e.getLong("worker"));
                default -> {
                }
            }
        }
        return alive;
    }

    private static void awaitAlive(DaemonProcess daemon, int size) throws InterruptedException {
        daemon.awaitTrue(() -> alive(daemon).size() == size, Duration.ofSeconds(15), "pool of " + size + " workers");
    }

    private static int count(DaemonProcess daemon, String event) {
        return daemon.events(event).size();
    }

    @Test
    void resizeUnderLoadNeverCutsASection() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 3\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            awaitAlive(daemon, 3);
            int reloads = 0;
            for (int size : new int[]{10, 1, 0, 5}) {
                rewrite("shieldpool.pool.size = " + size + "\n");
                daemon.signal("HUP");
                reloads++;
                int expected = reloads;
                daemon.awaitTrue(() -> count(daemon, "reload.complete") >= expected, Duration.ofSeconds(10),
                        "reload " + reloads);
                awaitAlive(daemon, size);
                JsonObject resize = daemon.events("pool.resize").getLast();
                assertThat(resize.getInteger("to")).isEqualTo(size);
                if (size == 0) {
                    // Size 0 idles: once the retiring sections are done, nothing starts.
                    int startsBefore = count(daemon, "section.start");
                    Thread.sleep(500);
                    assertThat(count(daemon, "section.start")).isEqualTo(startsBefore);
                } else {
                    Thread.sleep(400); // let the new size work for a few sections
                }
            }
            daemon.drainNow();
            // A retired worker never started a section after it retired.
            Set<Long> retired = new HashSet<>();
            for (JsonObject e : daemon.events()) {
                if ("worker.retired".equals(e.getString("event"))) {
                    retired.add(e.getLong("worker"));
                } else if ("section.start".equals(e.getString("event"))) {
                    assertThat(retired).doesNotContain(e.getLong("worker"));
                }
            }
            assertThat(daemon.events("reload.complete").getFirst().getInteger("pool_size_before")).isEqualTo(3);
            assertThat(daemon.events("reload.complete").getFirst().getInteger("pool_size_after")).isEqualTo(10);
        }
    }

    @Test
    void invalidFileOnReloadKeepsTheOldConfigRunning() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 2\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            rewrite("shieldpool.pool.size = -4\nshieldpool.pool.sise = 3\n");
            daemon.signal("HUP");
            daemon.awaitEvent("reload.failed", Duration.ofSeconds(10));
            Thread.sleep(300);
            List<JsonObject> failures = daemon.events("reload.failed");
            assertThat(failures).hasSize(2);
            assertThat(failures).extracting(e -> e.getString("problem")).anySatisfy(p -> assertThat(p)
                    .isEqualTo("shieldpool.pool.size: -4 (expected: an integer from 0 to 2000000) at " + file + ":8"));
            assertThat(failures).extracting(e -> e.getString("problem"))
                    .anySatisfy(p -> assertThat(p).contains("did you mean shieldpool.pool.size?"));
            assertThat(daemon.events("pool.resize")).isEmpty();
            // Still working on the old config.
            int ends = count(daemon, "section.end");
            daemon.awaitTrue(() -> count(daemon, "section.end") > ends + 2, Duration.ofSeconds(5),
                    "sections after the failed reload");
            assertThat(alive(daemon)).hasSize(2);
            // And a fixed file applies.
            rewrite("shieldpool.pool.size = 4\n");
            daemon.signal("HUP");
            daemon.awaitEvent("reload.complete", Duration.ofSeconds(10));
            awaitAlive(daemon, 4);
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            DrainInvariants.check(daemon, false);
        }
    }

    @Test
    void aBurstOfReloadsConvergesOnTheLastContents() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 2\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            int last = 0;
            for (int i = 0; i < 100; i++) {
                last = 1 + (i * 7) % 13;
                rewrite("shieldpool.pool.size = " + last + "\n");
                daemon.signal("HUP");
                Thread.sleep(8);
            }
            int finalSize = last;
            daemon.awaitTrue(() -> !daemon.events("reload.complete").isEmpty()
                    && daemon.events("reload.complete").getLast().getInteger("pool_size_after") == finalSize
                    && alive(daemon).size() == finalSize, Duration.ofSeconds(20), "convergence to " + finalSize);
            Thread.sleep(1000);
            awaitAlive(daemon, finalSize); // and stays there: no leaked workers
            assertThat(count(daemon, "reload.complete")).isBetween(1, 100);
            assertThat(daemon.events("reload.failed")).isEmpty();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            DrainInvariants.check(daemon, false);
        }
    }

    @Test
    void sigtermDuringAShrinkDrainsCleanly() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 6\nshieldpool.work.demo.step-duration = 400ms\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.awaitTrue(() -> count(daemon, "section.start") >= 6, Duration.ofSeconds(5), "6 sections running");
            rewrite("shieldpool.pool.size = 1\nshieldpool.work.demo.step-duration = 400ms\n");
            daemon.signal("HUP");
            daemon.awaitEvent("pool.resize", Duration.ofSeconds(5));
            daemon.drainNow();
            assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight")).isPositive();
        }
    }

    @Test
    void sighupDuringADrainIsIgnored() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 2\nshieldpool.work.demo.step-duration = 500ms\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.await(e -> "section.start".equals(e.getString("event")), Duration.ofSeconds(5), "a section");
            daemon.signal("TERM");
            daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            rewrite("shieldpool.pool.size = 9\n");
            daemon.signal("HUP");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(daemon.events("reload.begin")).isEmpty();
            assertThat(daemon.events()).anyMatch(e -> e.getString("message").startsWith("SIGHUP ignored"));
            DrainInvariants.check(daemon, false);
        }
    }

    @Test
    void logLevelChangesWithoutRestart() throws Exception {
        Files.createDirectories(dir);
        file = dir.resolve("live.conf");
        String info = BASE.replace("shieldpool.log.level = debug", "shieldpool.log.level = info");
        Files.writeString(file, info + "shieldpool.pool.size = 2\n");
        try (DaemonProcess daemon = DaemonProcess.launch(
                List.of(DaemonProcess.LAUNCHER.toString(), "--config", file.toString()), Map.of())) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Thread.sleep(600);
            assertThat(daemon.events("section.start")).as("no DEBUG lines at info").isEmpty();
            Path next = dir.resolve("live.conf.next");
            Files.writeString(next, info.replace("level = info", "level = debug") + "shieldpool.pool.size = 2\n");
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            daemon.signal("HUP");
            JsonObject reload = daemon.awaitEvent("reload.complete", Duration.ofSeconds(10));
            assertThat(reload.getJsonArray("changed").getList()).containsExactly("shieldpool.log.level");
            daemon.awaitEvent("section.start", Duration.ofSeconds(5));
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
        }
    }

    @Test
    void keysThatNeedARestartAreReportedAndTheRestApplies() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 2\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Path next = dir.resolve("live.conf.next");
            Files.writeString(next, BASE.replace("event-loops = 2", "event-loops = 1")
                    .replace("step-duration = 100ms", "step-duration = 50ms") + "shieldpool.pool.size = 3\n");
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            daemon.signal("HUP");
            JsonObject reload = daemon.awaitEvent("reload.complete", Duration.ofSeconds(10));
            assertThat(reload.getJsonArray("restart_needed").getList()).containsExactly("shieldpool.pool.event-loops");
            assertThat(reload.getJsonArray("changed").getList())
                    .containsExactly("shieldpool.pool.size", "shieldpool.work.demo.step-duration");
            assertThat(daemon.events("reload.restart-needed")).hasSize(1);
            awaitAlive(daemon, 3);
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            DrainInvariants.check(daemon, false);
        }
    }

    @Test
    void ttinAndTtouNudgeThePoolByOne() throws Exception {
        try (DaemonProcess daemon = start("shieldpool.pool.size = 2\n")) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.signal("TTIN");
            awaitAlive(daemon, 3);
            daemon.signal("TTIN");
            awaitAlive(daemon, 4);
            daemon.signal("TTOU");
            awaitAlive(daemon, 3);
            assertThat(daemon.events()).anyMatch(e -> e.getString("message").contains("run-time override of pool.size"));
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            DrainInvariants.check(daemon, false);
        }
    }
}
