package io.shieldpool.e2e;

import io.shieldpool.systemd.NotifyReceiver;
import io.shieldpool.systemd.NotifyReceiver.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real daemon reporting to a real unix datagram socket passed as NOTIFY_SOCKET, as systemd
 * would: readiness, status, reloads, the drain with its stop-timeout extensions, and the watchdog.
 */
@Timeout(180)
class SystemdNotifyIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** JSON events at debug: DrainInvariants reads section.start/end and gate.closed. */
    private static final String HEADER = "shieldpool.log.format = json\nshieldpool.log.level = debug\nshieldpool.admin.port = 0\n";

    @TempDir
    Path dir;

    private Path file;

    private DaemonProcess start(String config, Map<String, String> env) throws Exception {
        file = dir.resolve("shieldpool.conf");
        Files.writeString(file, HEADER + config);
        return DaemonProcess.launch(List.of(DaemonProcess.LAUNCHER.toString(), "--config", file.toString()), env);
    }

    private void rewrite(String config) throws Exception {
        Path next = dir.resolve("shieldpool.conf.next");
        Files.writeString(next, HEADER + config);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void readyStatusAndReloadsOnAPathSocket() throws Exception {
        String config = """
                shieldpool.pool.size = 2
                shieldpool.pool.event-loops = 1
                shieldpool.work.demo.steps = 2
                shieldpool.work.demo.step-duration = 200ms
                shieldpool.work.demo.log-steps = false
                """;
        try (NotifyReceiver systemd = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             DaemonProcess daemon = start(config, Map.of("NOTIFY_SOCKET", systemd.address()))) {
            AdminClient admin = AdminClient.of(daemon);
            int ready = systemd.await(0, m -> m.has("READY=1"), WAIT, "READY=1");
            // READY=1 only once the pool runs: /readyz (200 only while running) agrees at once.
            assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
            assertThat(systemd.messages().get(ready).value("MAINPID")).isEqualTo(Long.toString(daemon.pid()));
            assertThat(daemon.events("ready")).hasSize(1);
            for (Message before : systemd.messages().subList(0, ready)) {
                assertThat(before.has("READY=1")).isFalse();
            }

            // STATUS kept current: the count of sections done grows.
            int first = systemd.await(ready, m -> sectionsDone(m) > 0, WAIT, "STATUS with sections done");
            long done = sectionsDone(systemd.messages().get(first));
            assertThat(systemd.messages().get(first).value("STATUS")).matches("2/2 workers, \\d busy, \\d+ sections? done");
            int later = systemd.await(first + 1, m -> sectionsDone(m) > done, WAIT, "a later STATUS with more done");

            // A reload that applies: RELOADING=1 with MONOTONIC_USEC, then READY=1.
            rewrite(config.replace("pool.size = 2", "pool.size = 3"));
            daemon.signal("HUP");
            int reloading = systemd.await(later, m -> m.has("RELOADING=1"), WAIT, "RELOADING=1");
            long monotonic = Long.parseLong(systemd.messages().get(reloading).value("MONOTONIC_USEC"));
            assertThat(Math.abs(monotonic - System.nanoTime() / 1000)).as("MONOTONIC_USEC is CLOCK_MONOTONIC")
                    .isLessThan(60_000_000L);
            int reloaded = systemd.await(reloading, m -> m.has("READY=1"), WAIT, "READY=1 after the reload");
            assertThat(systemd.messages().get(reloaded).value("STATUS")).contains("reloaded").contains("pool.size");
            assertThat(systemd.messages().get(reloaded).has("ERRNO")).isFalse();
            systemd.await(reloaded, m -> String.valueOf(m.value("STATUS")).startsWith("3/3 workers"), WAIT,
                    "STATUS with the new size");

            // A reload of an invalid file: RELOADING=1, then READY=1 with the failure reported.
            rewrite(config + "shieldpool.pool.size = -1\n");
            daemon.signal("HUP");
            int again = systemd.await(reloaded + 1, m -> m.has("RELOADING=1"), WAIT, "RELOADING=1 (invalid file)");
            int rejected = systemd.await(again, m -> m.has("READY=1"), WAIT, "READY=1 after the rejected reload");
            Message failure = systemd.messages().get(rejected);
            assertThat(failure.value("STATUS")).startsWith("reload failed: see journal");
            assertThat(failure.value("ERRNO")).isEqualTo("22");
            daemon.awaitEvent("reload.failed", WAIT);
            // ... and it stays in front of the pool's line in later updates.
            systemd.await(rejected + 1, m -> String.valueOf(m.value("STATUS")).matches(
                    "reload failed: see journal; 3/3 workers, .*"), WAIT, "STATUS keeping the failure visible");

            daemon.signal("TERM");
            int stopping = systemd.await(rejected, m -> m.has("STOPPING=1"), WAIT, "STOPPING=1");
            assertThat(daemon.awaitExit(WAIT)).as(daemon.transcript()).isZero();
            int stopped = systemd.await(stopping, m -> String.valueOf(m.value("STATUS")).startsWith("stopped"), WAIT,
                    "the final STATUS");
            assertThat(systemd.messages().get(stopped).value("STATUS")).endsWith("exit code 0");
            DrainInvariants.check(daemon, false);
        }
    }

    @Test
    void aLongDrainOnAnAbstractSocketStopsThenExtendsTheStopTimeout() throws Exception {
        String config = """
                shieldpool.pool.size = 2
                shieldpool.pool.event-loops = 1
                shieldpool.work.demo.steps = 3
                shieldpool.work.demo.step-duration = 2s
                shieldpool.shutdown.grace = 60s
                """;
        String name = "shieldpool-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver systemd = NotifyReceiver.abstractNamed(name);
             DaemonProcess daemon = start(config, Map.of("NOTIFY_SOCKET", "@" + name))) {
            int ready = systemd.await(0, m -> m.has("READY=1"), WAIT, "READY=1");
            daemon.await(e -> e.getString("message", "").contains("step 1 of 3"),
                    WAIT, "a first step done");
            daemon.signal("TERM");
            int stopping = systemd.await(ready, m -> m.has("STOPPING=1"), WAIT, "STOPPING=1");
            assertThat(systemd.messages().get(stopping).value("STATUS")).matches("draining: 2 sections left, 60s of grace left");
            int extend = systemd.await(stopping, m -> m.has("EXTEND_TIMEOUT_USEC"), WAIT, "EXTEND_TIMEOUT_USEC");
            int extendAgain = systemd.await(extend + 1, m -> m.has("EXTEND_TIMEOUT_USEC"), WAIT, "a repeated EXTEND_TIMEOUT_USEC");
            for (int i : new int[]{extend, extendAgain}) {
                long micros = Long.parseLong(systemd.messages().get(i).value("EXTEND_TIMEOUT_USEC"));
                assertThat(micros).isPositive().isLessThanOrEqualTo(65_000_000L);
                assertThat(systemd.messages().get(i).value("STATUS")).startsWith("draining: ");
            }
            assertThat(daemon.awaitExit(WAIT)).as(daemon.transcript()).isZero();
            DrainInvariants.check(daemon, false);
            // Nothing but STATUS and EXTEND after STOPPING: no READY, no RELOADING.
            for (Message m : systemd.messages().subList(stopping, systemd.messages().size())) {
                assertThat(m.has("READY=1") || m.has("RELOADING=1")).as(m.text()).isFalse();
            }
        }
    }

    @Test
    void watchdogPingsAtHalfTheIntervalAndStopsWhenASectionHangs() throws Exception {
        String config = """
                shieldpool.pool.size = 1
                shieldpool.pool.event-loops = 1
                shieldpool.work.demo.steps = 1
                shieldpool.work.demo.step-duration = 1s
                shieldpool.work.demo.stall-in-section = 4
                shieldpool.systemd.stall-after = 2s
                shieldpool.shutdown.grace = 1s
                """;
        long intervalMicros = 2_000_000;
        try (NotifyReceiver systemd = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             DaemonProcess daemon = start(config, Map.of("NOTIFY_SOCKET", systemd.address(),
                     "WATCHDOG_USEC", Long.toString(intervalMicros)))) {
            // The start line's fields and its text give the same numbers: WatchdogSec, then half of it.
            JsonObject started = daemon.awaitEvent("watchdog.started", Duration.ofSeconds(20));
            assertThat(started.getLong("timeout_ms")).isEqualTo(2000);
            assertThat(started.getLong("ping_every_ms")).isEqualTo(1000);
            assertThat(started.getString("message")).contains("timeout 2000 ms").contains("every 1000 ms");
            JsonObject stoppedEvent = daemon.awaitEvent("watchdog.stopped", Duration.ofSeconds(60));
            assertThat(stoppedEvent.getString("reason")).contains("worker 1").contains("section 4")
                    .contains("no progress");
            Thread.sleep(300); // a ping sent just before the verdict is in the socket by now
            List<Long> pings = new ArrayList<>();
            for (Message m : systemd.messages()) {
                if (m.has("WATCHDOG=1")) {
                    pings.add(m.receivedNanos());
                }
            }
            // Sections 1-3 took a second each: pings came all along, more often than the interval.
            assertThat(pings).as(systemd.transcript()).hasSizeGreaterThanOrEqualTo(3);
            List<Long> gaps = new ArrayList<>();
            for (int i = 1; i < pings.size(); i++) {
                gaps.add((pings.get(i) - pings.get(i - 1)) / 1000);
            }
            gaps.sort(null);
            long median = gaps.get(gaps.size() / 2);
            assertThat(median).as("median gap between pings, us; all: %s", gaps)
                    .isBetween(intervalMicros / 4, intervalMicros * 9 / 10);
            // Once the section hangs, no more pings: systemd would restart the daemon.
            int count = pings.size();
            Thread.sleep(3 * intervalMicros / 1000);
            long after = systemd.messages().stream().filter(m -> m.has("WATCHDOG=1")).count();
            assertThat(after).as(systemd.transcript()).isEqualTo(count);
            // Liveness still answers: the event loops are fine, it is a section that is stuck.
            assertThat(AdminClient.of(daemon).get("/healthz").statusCode()).isEqualTo(200);
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(WAIT)).as(daemon.transcript()).isEqualTo(75);
            assertThat(daemon.events("section.abandoned")).hasSize(1);
            // A drain stuck on a stalled section asks systemd for no extra stop time.
            int stopping = systemd.await(0, m -> m.has("STOPPING=1"), WAIT, "STOPPING=1");
            assertThat(systemd.messages().subList(stopping, systemd.messages().size()))
                    .as(systemd.transcript()).noneMatch(m -> m.has("EXTEND_TIMEOUT_USEC"));
            systemd.await(stopping, m -> String.valueOf(m.value("STATUS")).endsWith("exit code 75")
                    && "75".equals(m.value("EXIT_STATUS")), WAIT, "STATUS and EXIT_STATUS of the cut drain");
        }
    }

    @Test
    void noWatchdogPingsWhenWatchdogPidIsAnotherProcess() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             DaemonProcess daemon = start("shieldpool.work.demo.log-steps = false\n", Map.of(
                     "NOTIFY_SOCKET", systemd.address(), "WATCHDOG_USEC", "500000", "WATCHDOG_PID", "1"))) {
            int ready = systemd.await(0, m -> m.has("READY=1"), WAIT, "READY=1");
            Thread.sleep(1500);
            assertThat(systemd.messages()).as(systemd.transcript()).noneMatch(m -> m.has("WATCHDOG=1"));
            assertThat(ready).isNotNegative();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(WAIT)).as(daemon.transcript()).isZero();
        }
    }

    /** The "N sections done" of a running STATUS line, or -1. */
    private static long sectionsDone(Message m) {
        String status = m.value("STATUS");
        if (status == null) {
            return -1;
        }
        var match = java.util.regex.Pattern.compile("(\\d+) sections? done").matcher(status);
        return match.find() ? Long.parseLong(match.group(1)) : -1;
    }
}
