package io.shieldpool.realsystemd;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Debian package under a real systemd as PID 1: one container booted per Debian version, the
 * .deb this build made installed in it, and every promise of the unit checked against what systemd
 * itself reports ({@code systemctl show}, {@code journalctl -o json}). The tests run in order on
 * one booted system (booting is cheap, the JVM starts are not): install, start, reload, stop and
 * drain, the restart policy and the watchdog, the sandbox, then upgrade, remove and purge.
 *
 * <p>Skipped, with one line saying why, where containers cannot run (not root, no cgroups, the
 * tools missing); .ci/run installs the tools.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
abstract class RealSystemdSuite {

    private static final AtomicBoolean SKIP_SAID = new AtomicBoolean();
    private static final Path DEB = Path.of(System.getProperty("shieldpool.deb", "target/shieldpool.deb"));
    private static final Path WORK = Path.of(System.getProperty("shieldpool.containers", "target/real-systemd"));
    private static final String UNIT = "shieldpool.service";
    private static final String CONF = "/etc/shieldpool/shieldpool.conf";
    private static final String DROP_IN = "/etc/systemd/system/shieldpool.service.d/test.conf";
    /** MESSAGE_IDs of systemd's catalog: a unit began starting, and has started. */
    private static final String UNIT_STARTING = "7d4958e842da4a758f6c1cdc7b36dcc5";
    private static final String UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf";
    /** PID 1's debug line as it runs ExecStart= (252 writes no colon, 257 does). */
    private static final Pattern STARTS_JVM = Pattern.compile("About to execute:? /usr/bin/shieldpool ");
    /** A quick demo pool: sections of 3 steps of 300 ms. */
    private static final String BASE = """
            pool.size = 2
            work.demo { steps = 3, step-duration = 300ms }
            shutdown.grace = 20s
            """;

    private SystemdContainer container;
    private Journal journal;
    private long began;
    private int testsRun;

    /** The Debian suite (bookworm, trixie). */
    abstract String suite();

    /** What the suite's systemd calls its version. */
    abstract int systemdVersion();

    /** Host directories the container needs (a JDK where Debian has none), bound read-only. */
    abstract List<Path> hostDirectories();

    /** dpkg -i options (--force-depends where the Java 25 dependency cannot be met). */
    abstract String dpkgOptions();

    @BeforeAll
    void boot() throws Exception {
        Optional<String> why = SystemdContainer.cannotRun();
        if (why.isPresent() && !SKIP_SAID.getAndSet(true)) {
            System.err.println("SKIPPED real-systemd tests (Debian 12 and 13 containers): " + why.get());
        }
        Assumptions.assumeTrue(why.isEmpty(), () -> why.orElse(""));
        began = System.nanoTime();
        SystemdContainer.removeLeftovers();
        Path rootfs = Rootfs.forSuite(suite());
        Path upgrade = UpgradePackage.of(DEB, WORK);
        container = SystemdContainer.boot(suite(), rootfs, WORK.toAbsolutePath(), hostDirectories());
        journal = new Journal(container);
        Files.copy(DEB, container.root().resolve("root/shieldpool.deb"));
        Files.copy(upgrade, container.root().resolve("root/shieldpool-upgrade.deb"));
        System.err.printf("real systemd: %s booted in %.1f s (rootfs ready, package copied)%n", container,
                (System.nanoTime() - began) / 1e9);
    }

    @AfterAll
    void tearDown() {
        if (container != null) {
            container.close();
            System.err.printf("real systemd: Debian %s (systemd %d): %d tests in %.0f s, boot and teardown included%n",
                    suite(), systemdVersion(), testsRun, (System.nanoTime() - began) / 1e9);
        }
    }

    // ---- install and start ----

    @Test
    @Order(1)
    void installsWithoutStartingAndTheUnitLoadsWithoutAWarning() {
        testsRun++;
        assertThat(container.sh("systemctl --version").out()).startsWith("systemd " + systemdVersion());
        String cursor = journal.cursor();
        Exec install = container.sh("dpkg -i " + dpkgOptions() + " /root/shieldpool.deb 2>&1", Duration.ofMinutes(3));
        assertThat(install.exitCode()).as(install.toString()).isZero();
        assertThat(install.out()).contains("installed, not started").doesNotContain("older-systemd");
        assertThat(container.sh("systemctl is-enabled " + UNIT).out().strip()).isEqualTo("disabled");
        assertThat(show("ActiveState")).isEqualTo("inactive");
        // The unit file, as this systemd reads it: no unknown key, no value it ignores.
        Exec verify = container.sh("systemd-analyze verify /usr/lib/systemd/system/" + UNIT);
        assertThat(verify.out() + verify.err()).as("systemd-analyze verify").isBlank();
        List<String> loadWarnings = journal.since(cursor).stream().filter(Journal.Entry::fromSystemd)
                .map(Journal.Entry::message).filter(m -> m.contains(UNIT) || m.contains("shieldpool.service:"))
                .toList();
        assertThat(loadWarnings).as("systemd's messages about the unit while it was installed and loaded").isEmpty();
    }

    @Test
    @Order(2)
    void startReturnsOnceTheDaemonIsReadyAndStatusShowsItsLine() {
        testsRun++;
        configure(BASE);
        String cursor = journal.cursor();
        container.sh("systemctl enable --now " + UNIT).ok();
        // At once, no retry: with Type=simple the JVM would still be starting here.
        Exec ready = container.sh("curl -sf http://127.0.0.1:8642/readyz");
        assertThat(ready.exitCode()).as("readyz right after `systemctl start` returned: " + ready).isZero();
        Map<String, String> unit = show("Type", "NotifyAccess", "ActiveState", "SubState", "StatusText", "MainPID");
        assertThat(unit).containsEntry("Type", "notify").containsEntry("NotifyAccess", "main")
                .containsEntry("ActiveState", "active").containsEntry("SubState", "running");
        assertThat(unit.get("StatusText")).matches("\\d+/\\d+ workers.*");
        // why a pattern, not the text read above: the daemon refreshes its STATUS= every 2 s.
        assertThat(container.sh("systemctl status --no-pager " + UNIT).out())
                .containsPattern("Status: \"\\d+/\\d+ workers");
        // systemd went active (READY=1) well after it started the JVM: with Type=simple the two
        // are the same moment. A JVM cannot start and run a pool in 100 ms, however fast the machine.
        Map<String, String> times = show("ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic");
        long readyAfterUsec = Long.parseLong(times.get("ActiveEnterTimestampMonotonic"))
                - Long.parseLong(times.get("ExecMainStartTimestampMonotonic"));
        System.err.printf("real systemd: %s: active %d ms after the JVM was started%n", suite(), readyAfterUsec / 1000);
        assertThat(readyAfterUsec).as("from exec to active (us)").isGreaterThan(100_000);
        // why not the journal's order: journald sequences the daemon's stdout stream and PID 1's
        // native messages as it reads them, not as they were written; on 257 "Started" was often
        // filed before the ready line the daemon had written (and flushed) before sending READY=1.
        List<Journal.Entry> entries = journal.since(cursor);
        assertThat(entries).as("the daemon's ready line").anyMatch(e -> e.fromService() && e.message().contains("[event=ready"));
        assertThat(entries).as("systemd's Started line").anyMatch(e -> e.fromSystemd() && UNIT_STARTED.equals(e.messageId()));
    }

    // ---- reload ----

    @Test
    @Order(3)
    void reloadReturnsOnlyOnceTheEditIsApplied() throws Exception {
        testsRun++;
        long pid = mainPid();
        configure(BASE + "pool.size = 4\n");
        // The daemon stopped for 2 s while `systemctl reload` runs: the reload must wait for it.
        container.sh("kill -STOP " + pid).ok();
        long start = System.nanoTime();
        CompletableFuture<Exec> reload = CompletableFuture.supplyAsync(() -> container.sh("systemctl reload " + UNIT));
        try {
            Thread.sleep(2000);
            assertThat(reload).as("systemctl reload while the daemon is stopped").isNotDone();
        } finally {
            container.sh("kill -CONT " + pid).ok();
        }
        Exec done = reload.get();
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(done.exitCode()).as(done.toString()).isZero();
        assertThat(seconds).as("reload took").isGreaterThanOrEqualTo(2.0);
        JsonObject status = adminStatus();
        assertThat(status.getJsonObject("pool").getInteger("desired")).as("pool size right after the reload").isEqualTo(4);
        assertThat(status.getLong("config_version")).isEqualTo(2L);
        assertThat(mainPid()).isEqualTo(pid);
    }

    @Test
    @Order(4)
    void anInvalidEditIsRejectedTheOldConfigKeptAndReloadFails() {
        testsRun++;
        long pid = mainPid();
        String cursor = journal.cursor();
        configure(BASE + "pool.size = -1\n");
        Exec reload = container.sh("systemctl reload " + UNIT);
        assertThat(reload.exitCode()).as("systemctl reload of an invalid file: " + reload).isNotZero();
        assertThat(show("ActiveState", "SubState")).containsEntry("ActiveState", "active").containsEntry("SubState", "running");
        assertThat(mainPid()).isEqualTo(pid);
        assertThat(show("StatusText")).contains("reload failed");
        JsonObject status = adminStatus();
        assertThat(status.getJsonObject("pool").getInteger("desired")).as("the previous config's size").isEqualTo(4);
        assertThat(status.getLong("config_version")).isEqualTo(2L);
        List<Journal.Entry> lines = journal.service(cursor);
        assertThat(lines).anySatisfy(e -> {
            assertThat(e.message()).contains("reload rejected").contains("shieldpool.pool.size: -1");
            assertThat(e.priority()).isEqualTo(3);
        });
        assertThat(lines).as("ExecReload's own line").anySatisfy(e -> {
            assertThat(e.message()).startsWith("shieldpool reload: rejected");
            assertThat(e.priority()).isEqualTo(3);
        });
        configure(BASE + "pool.size = 4\n");
        container.sh("systemctl reload " + UNIT).ok();
    }

    @Test
    @Order(5)
    void eachLineReachesTheJournalAtItsLevelsPriority() {
        testsRun++;
        Map<String, Integer> expected = Map.of("ERROR", 3, "WARN", 4, "INFO", 6, "DEBUG", 7);
        Map<String, Integer> seen = new HashMap<>();
        for (Journal.Entry e : journal.service("")) {
            Matcher level = Pattern.compile("^(ERROR|WARN|INFO|DEBUG) ").matcher(e.message());
            if (level.find()) {
                assertThat(e.priority()).as("PRIORITY of: " + e.message()).isEqualTo(expected.get(level.group(1)));
                seen.merge(level.group(1), 1, Integer::sum);
            }
        }
        assertThat(seen).containsKeys("INFO", "ERROR");
    }

    // ---- stop and drain ----

    @Test
    @Order(6)
    void stopDrainsTheSectionsInFlightAndExitsZero() {
        testsRun++;
        String cursor = journal.cursor();
        long pid = mainPid();
        container.sh("systemctl stop " + UNIT).ok();
        assertThat(show("ActiveState", "Result", "ExecMainStatus")).containsEntry("ActiveState", "inactive")
                .containsEntry("Result", "success").containsEntry("ExecMainStatus", "0");
        String complete = lineWith(journal.service(cursor), "[event=shutdown.complete");
        assertThat(field(complete, "abandoned")).isEqualTo("0");
        assertThat(field(complete, "exit_code")).isEqualTo("0");
        assertThat(Long.parseLong(field(complete, "completed"))).isPositive();
        assertThat(container.sh("kill -0 " + pid).exitCode()).as("the JVM is gone").isNotZero();
    }

    @Test
    @Order(7)
    void aDrainLongerThanTimeoutStopSecButWithinTheGraceSurvivesByExtension() {
        testsRun++;
        dropIn("[Service]\nTimeoutStopSec=3s\n");
        try {
            configure("pool.size = 1\nwork.demo { steps = 3, step-duration = 3s }\nshutdown.grace = 15s\n");
            String cursor = journal.cursor();
            container.sh("systemctl start " + UNIT).ok();
            // Right after the first step of a 9 s section: 6 s of it are left, twice TimeoutStopSec.
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> journal.service(cursor).stream().anyMatch(e -> e.message().contains("step 1 of 3 done")));
            long start = System.nanoTime();
            container.sh("systemctl stop " + UNIT).ok();
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(seconds).as("the drain outlasted TimeoutStopSec=3s").isGreaterThan(3.0);
            assertThat(show("Result", "ExecMainStatus")).containsEntry("Result", "success").containsEntry("ExecMainStatus", "0");
            assertThat(journal.since(cursor)).noneMatch(e -> e.fromSystemd() && e.message().contains("timed out"));
        } finally {
            removeDropIn();
        }
    }

    @Test
    @Order(8)
    void aSectionLongerThanTheGraceExits75TheUnitFailsAndIsNotRestarted() {
        testsRun++;
        configure("""
                pool.size = 2
                work.type = exec
                work.exec { command = ["/bin/sleep", "120"], kill-after = 1s }
                shutdown.grace = 2s
                """);
        container.sh("systemctl start " + UNIT).ok();
        await().atMost(Duration.ofSeconds(20)).until(() -> commandsRunning("sleep 120").size() == 2);
        for (String child : commandsRunning("sleep 120")) {
            assertThat(child).as("an exec child: user and cgroup").startsWith("shieldpool ").contains("/system.slice/shieldpool.service");
        }
        long restarts = Long.parseLong(show("NRestarts"));
        container.sh("systemctl stop " + UNIT).ok();
        assertThat(show("ActiveState", "Result", "ExecMainStatus")).containsEntry("ActiveState", "failed")
                .containsEntry("Result", "exit-code").containsEntry("ExecMainStatus", "75");
        assertThat(commandsRunning("sleep 120")).as("children left after the cut").isEmpty();
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
                .until(() -> show("ActiveState").equals("failed") && Long.parseLong(show("NRestarts")) == restarts);
        container.sh("systemctl reset-failed " + UNIT).ok();
    }

    @Test
    @Order(9)
    void execChildrenRunInTheServiceCgroupAsItsUserAndNoneOutlivesAStop() {
        testsRun++;
        configure("""
                pool.size = 2
                work.type = exec
                work.exec.command = ["/bin/sh", "-c", "sleep 0.4; echo section $SHIELDPOOL_SECTION done"]
                """);
        String cursor = journal.cursor();
        container.sh("systemctl start " + UNIT).ok();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> !commandsRunning("sleep 0.4").isEmpty());
        for (String child : commandsRunning("sleep 0.4")) {
            assertThat(child).startsWith("shieldpool ").contains("/system.slice/shieldpool.service");
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() -> journal.service(cursor).stream().filter(e -> e.message().contains("done")).count() >= 4);
        container.sh("systemctl stop " + UNIT).ok();
        assertThat(show("Result", "ExecMainStatus")).containsEntry("Result", "success").containsEntry("ExecMainStatus", "0");
        assertThat(container.sh("pgrep -u shieldpool -a").out()).as("processes of the service user after the stop").isBlank();
        assertThat(journal.service("")).as("the sandbox refused nothing").noneMatch(e -> e.message()
                .matches("(?is).*(SIGSYS|bad system call|EPERM|operation not permitted|EACCES|permission denied).*"));
    }

    // ---- watchdog and restarts ----

    @Test
    @Order(10)
    void theWatchdogKillsAStalledDaemonAndSystemdRestartsIt() {
        testsRun++;
        dropIn("[Service]\nWatchdogSec=3s\n");
        try {
            configure("""
                    pool.size = 1
                    work.demo { steps = 3, step-duration = 100ms, stall-in-section = 3 }
                    systemd.stall-after = 1s
                    """);
            String cursor = journal.cursor();
            container.sh("systemctl start " + UNIT).ok();
            long pid = mainPid();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> mainPid() != pid && mainPid() != 0 && show("ActiveState").equals("active"));
            assertThat(Long.parseLong(show("NRestarts"))).isPositive();
            assertThat(journal.since(cursor)).anySatisfy(e -> {
                assertThat(e.fromSystemd()).isTrue();
                assertThat(e.message()).containsIgnoringCase("watchdog timeout");
            });
            container.sh("systemctl stop " + UNIT);
        } finally {
            removeDropIn();
            container.sh("systemctl reset-failed " + UNIT);
        }
    }

    @Test
    @Order(11)
    void aKilledDaemonIsRestarted() {
        testsRun++;
        configure(BASE);
        container.sh("systemctl start " + UNIT).ok();
        long pid = mainPid();
        long restarts = Long.parseLong(show("NRestarts"));
        container.sh("kill -KILL " + pid).ok();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> mainPid() != pid && mainPid() != 0 && show("SubState").equals("running"));
        assertThat(Long.parseLong(show("NRestarts"))).isEqualTo(restarts + 1);
        container.sh("systemctl stop " + UNIT).ok();
    }

    @Test
    @Order(12)
    void exit78And64AreNotRetried() {
        testsRun++;
        configure(BASE + "pool.size = -1\n");
        String cursor = journal.cursor();
        assertNotRetried(78);
        // Why it did not start is an error in the journal: `journalctl -u shieldpool -p err` shows it.
        assertErrorLine(cursor, "shieldpool: config error: shieldpool.pool.size: -1");
        assertErrorLine(cursor, "not started (exit 78)");
        configure(BASE);
        dropIn("[Service]\nExecStart=\nExecStart=/usr/bin/shieldpool --no-such-option\n");
        try {
            cursor = journal.cursor();
            assertNotRetried(64);
            assertErrorLine(cursor, "shieldpool: Unknown option: '--no-such-option'");
        } finally {
            removeDropIn();
        }
    }

    private void assertErrorLine(String cursor, String text) {
        assertThat(journal.service(cursor)).as("a line with " + text).anySatisfy(e -> {
            assertThat(e.message()).contains(text);
            assertThat(e.priority()).as("PRIORITY of " + e.message()).isEqualTo(3);
        });
    }

    private void assertNotRetried(int code) {
        Exec start = container.sh("systemctl start " + UNIT);
        // why read after the start: a start by hand resets the counter.
        long restarts = Long.parseLong(show("NRestarts"));
        assertThat(start.exitCode()).as("start with exit " + code).isNotZero();
        assertThat(show("ActiveState", "ExecMainStatus")).containsEntry("ActiveState", "failed")
                .containsEntry("ExecMainStatus", String.valueOf(code));
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
                .until(() -> show("ActiveState").equals("failed") && Long.parseLong(show("NRestarts")) == restarts);
        container.sh("systemctl reset-failed " + UNIT).ok();
    }

    @Test
    @Order(13)
    void exit69IsRetriedWithGrowingGaps() {
        testsRun++;
        // An address that is not this host's: the admin server cannot listen (exit 69).
        configure(BASE + "admin { host = \"192.0.2.1\", token = \"0123456789abcdef0123\" }\n");
        // At debug, PID 1 logs each command it runs: the gap measured is from the daemon's exit to
        // the next JVM's exec, systemd's RestartSec= plus the backoff, without the JVM's own start.
        container.sh("systemctl log-level debug").ok();
        String cursor = journal.cursor();
        List<Long> exits = new ArrayList<>();
        List<Long> execs = new ArrayList<>();
        try {
            container.sh("systemctl start --no-block " + UNIT).ok();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                exits.clear();
                execs.clear();
                for (Journal.Entry e : journal.since(cursor)) {
                    if (e.fromSystemd() && e.message().contains("shieldpool.service: Main process exited")) {
                        assertThat(e.message()).contains("status=69");
                        exits.add(e.monotonicUsec());
                    } else if (e.fromSystemd() && STARTS_JVM.matcher(e.message()).find()) {
                        execs.add(e.monotonicUsec());
                    }
                }
                return execs.size() >= 4;
            });
        } finally {
            container.sh("systemctl stop " + UNIT);
            container.sh("systemctl log-level info");
            container.sh("systemctl reset-failed " + UNIT);
            configure(BASE);
        }
        List<Double> gaps = new ArrayList<>();
        for (int i = 1; i < execs.size(); i++) {
            gaps.add((execs.get(i) - exits.get(i - 1)) / 1e6);
        }
        System.err.println("real systemd: " + suite() + ": from exit 69 to the next start (s): " + gaps);
        for (int i = 1; i < gaps.size(); i++) {
            assertThat(gaps.get(i)).as("gap %d of %s", i + 1, gaps).isGreaterThan(gaps.get(i - 1) + 0.5);
        }
    }

    // ---- sandbox score ----

    @Test
    @Order(14)
    void securityExposureInTheBootedSystemIsAtMostTwo() {
        testsRun++;
        Exec security = container.sh("systemd-analyze security --no-pager " + UNIT);
        Matcher overall = Pattern.compile("Overall exposure level for shieldpool\\.service: (\\d+\\.\\d)").matcher(security.out());
        assertThat(overall.find()).as(security.toString()).isTrue();
        double score = Double.parseDouble(overall.group(1));
        System.err.println("real systemd: " + suite() + ": systemd-analyze security: " + score);
        assertThat(score).isLessThanOrEqualTo(2.0);
    }

    // ---- package life cycle ----

    @Test
    @Order(15)
    void anUpgradeInPlaceDrainsTheRunningDaemonAndStartsTheNewOne() {
        testsRun++;
        configure(BASE);
        container.sh("systemctl start " + UNIT).ok();
        long pid = mainPid();
        String cursor = journal.cursor();
        Exec upgrade = container.sh("dpkg -i " + dpkgOptions() + " /root/shieldpool-upgrade.deb 2>&1", Duration.ofMinutes(3));
        assertThat(upgrade.exitCode()).as(upgrade.toString()).isZero();
        assertThat(container.sh("dpkg-query -W -f '${Version}' shieldpool").out()).endsWith(UpgradePackage.SUFFIX);
        assertThat(show("ActiveState", "SubState")).containsEntry("ActiveState", "active").containsEntry("SubState", "running");
        assertThat(mainPid()).as("a new daemon").isNotEqualTo(pid);
        String complete = journal.service(cursor).stream().filter(e -> e.pid() == pid)
                .map(Journal.Entry::message).filter(m -> m.contains("[event=shutdown.complete")).findFirst()
                .orElseThrow(() -> new AssertionError("the old daemon (pid " + pid + ") logged no shutdown.complete"));
        assertThat(field(complete, "exit_code")).isEqualTo("0");
        assertThat(field(complete, "abandoned")).isEqualTo("0");
        assertThat(container.sh("systemctl is-enabled " + UNIT).out().strip()).as("enablement kept").isEqualTo("enabled");
    }

    @Test
    @Order(16)
    void removeDrainsAndPurgeLeavesOnlyTheSystemUser() {
        testsRun++;
        long pid = mainPid();
        String cursor = journal.cursor();
        Exec remove = container.sh("dpkg -r shieldpool 2>&1", Duration.ofMinutes(2));
        assertThat(remove.exitCode()).as(remove.toString()).isZero();
        String complete = journal.service(cursor).stream().filter(e -> e.pid() == pid)
                .map(Journal.Entry::message).filter(m -> m.contains("[event=shutdown.complete")).findFirst()
                .orElseThrow(() -> new AssertionError("the daemon (pid " + pid + ") logged no shutdown.complete on remove"));
        assertThat(field(complete, "exit_code")).isEqualTo("0");
        assertThat(show("LoadState")).isEqualTo("not-found");
        assertThat(exists("/etc/shieldpool/shieldpool.conf")).as("the conffile stays until purge").isTrue();
        for (String gone : List.of("/usr/bin/shieldpool", "/usr/share/shieldpool", "/var/cache/shieldpool", "/run/shieldpool",
                "/etc/systemd/system/multi-user.target.wants/shieldpool.service")) {
            assertThat(exists(gone)).as(gone + " after remove").isFalse();
        }
        Exec purge = container.sh("dpkg -P shieldpool 2>&1", Duration.ofMinutes(2));
        assertThat(purge.exitCode()).as(purge.toString()).isZero();
        assertThat(exists("/etc/shieldpool")).as("/etc/shieldpool after purge").isFalse();
        assertThat(container.sh("dpkg-query -W -f '${Status}' shieldpool 2>&1").out()).doesNotContain("installed");
        // Debian policy: a system user stays (files elsewhere may carry its uid).
        assertThat(container.sh("getent passwd shieldpool").exitCode()).isZero();
    }

    // ---- helpers ----

    private void configure(String body) {
        container.write(CONF, "shieldpool {\n" + body + "}\n");
    }

    private void dropIn(String text) {
        container.write(DROP_IN, text);
        container.sh("systemctl daemon-reload").ok();
    }

    private void removeDropIn() {
        container.sh("rm -f " + DROP_IN + " && systemctl daemon-reload").ok();
    }

    private String show(String property) {
        return show(new String[]{property}).get(property);
    }

    private Map<String, String> show(String... properties) {
        StringBuilder command = new StringBuilder("systemctl show");
        for (String p : properties) {
            command.append(" -p ").append(p);
        }
        Map<String, String> values = new HashMap<>();
        container.sh(command + " " + UNIT).ok().out().lines().filter(l -> l.contains("=")).forEach(l -> {
            int eq = l.indexOf('=');
            values.put(l.substring(0, eq), l.substring(eq + 1));
        });
        return values;
    }

    private long mainPid() {
        return Long.parseLong(show("MainPID"));
    }

    private JsonObject adminStatus() {
        Exec status = container.sh("curl -sf --max-time 5 http://127.0.0.1:8642/status").ok();
        return new JsonObject(status.out());
    }

    /** "user cgroup args" of the processes whose command line contains {@code args}. */
    private List<String> commandsRunning(String args) {
        return container.sh("ps -eo user:20=,cgroup:200=,args=").out().lines().map(String::strip)
                .filter(l -> l.endsWith(args) && !l.contains("ps -eo")).toList();
    }

    private boolean exists(String path) {
        return container.sh("test -e " + path).exitCode() == 0;
    }

    private static String lineWith(List<Journal.Entry> entries, String text) {
        return entries.stream().map(Journal.Entry::message).filter(m -> m.contains(text)).findFirst()
                .orElseThrow(() -> new AssertionError("no line with " + text));
    }

    /** A key=value of a text log line's bracketed fields. */
    private static String field(String line, String key) {
        Matcher m = Pattern.compile("[\\[ ]" + Pattern.quote(key) + "=([^ \\]]*)").matcher(line);
        if (!m.find()) {
            throw new AssertionError("no " + key + " in: " + line);
        }
        return m.group(1);
    }
}
