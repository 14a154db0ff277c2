package io.shieldpool.e2e;

import io.shieldpool.systemd.NotifyReceiver;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The database going away under real daemons, and not being there at their start: a real
 * PostgreSQL 15 cluster restarted ({@code pg_ctl restart -m fast}) and stopped for 30 s mid-run,
 * a daemon started while the server is down, a daemon pointed at a database that does not exist.
 * Sections are exec commands appending "S|E job attempt node clock" lines to a file; what is lost
 * or run twice is read from the database and that file, not from the daemons' counters.
 */
@Timeout(240)
class PostgresOutageIT {

    private static final Duration OUTAGE = Duration.ofSeconds(30);

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    private static boolean serverDown;

    @TempDir
    Path dir;

    @AfterEach
    void serverUpAgain() throws Exception {
        if (serverDown) {
            pg.cluster().startAgain();
            serverDown = false;
        }
        if (readOnly) {
            writable();
        }
    }

    private static boolean readOnly;

    /** Every session of the cluster takes no writes from now (as a demoted primary or a standby would). */
    private static void readOnly() throws Exception {
        readOnly = true;
        pg.cluster().psql("postgres", "ALTER SYSTEM SET default_transaction_read_only = on");
        pg.cluster().psql("postgres", "SELECT pg_reload_conf()");
    }

    private static void writable() throws Exception {
        pg.cluster().psql("postgres", "ALTER SYSTEM RESET default_transaction_read_only");
        pg.cluster().psql("postgres", "SELECT pg_reload_conf()");
        readOnly = false;
    }

    private static void stopServer() throws Exception {
        pg.cluster().stop();
        serverDown = true;
    }

    private static void startServer() throws Exception {
        pg.cluster().startAgain();
        serverDown = false;
    }

    private String config(String url, String node, Path sections, int workers) {
        return config(url, node, sections, workers, 0);
    }

    /** {@link #config(String, String, Path, int)} with a cluster-wide concurrency limit (held by slots) when {@code limit} > 0. */
    private String config(String url, String node, Path sections, int workers, int limit) {
        return String.join("\n",
                "shieldpool.pool.size = " + workers,
                PostgresNodes.execRecordingWork(sections, node, "0.05"),
                PostgresNodes.store(url),
                "shieldpool.jobs.poll-interval = 250ms",
                limit > 0 ? "shieldpool.jobs.limits.concurrency = " + limit : "");
    }

    private static long count(String database, String where) {
        return pg.count(database, where);
    }

    /** Lines of the sections file: kind (S/E), job, attempt, node, clock. */
    private static List<String[]> sections(Path file) {
        try {
            if (!Files.exists(file)) {
                return List.of();
            }
            return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(l -> l.trim().split(" ")).toList();
        } catch (Exception e) {
            return List.of();
        }
    }

    /** Waits (15 s at most) until {@code daemon}'s /readyz answers 503. */
    private static void awaitNotReady(DaemonProcess daemon, AdminClient admin, String why) throws InterruptedException {
        daemon.awaitTrue(() -> {
            try {
                return admin.get("/readyz").statusCode() == 503;
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(15), why);
    }

    /** Each of the {@code jobs} jobs began exactly once, by the sections file. */
    private static void everyJobBeganOnce(Path file, int jobs, String why) {
        Map<String, Integer> startsPerJob = new HashMap<>();
        for (String[] l : sections(file)) {
            if (l[0].equals("S")) {
                startsPerJob.merge(l[1], 1, Integer::sum);
            }
        }
        assertThat(startsPerJob).as("every job began").hasSize(jobs);
        assertThat(startsPerJob.values()).as(why).allSatisfy(n -> assertThat(n).isOne());
    }

    private static void terminate(DaemonProcess daemon) throws Exception {
        PostgresNodes.terminate(daemon, Duration.ofSeconds(40));
    }

    private static long warnsAfter(DaemonProcess daemon, String event, Instant after) {
        return daemon.events(event).stream().filter(e -> !DaemonProcess.timestamp(e).isBefore(after)).count();
    }

    @Test
    void theDatabaseRestartedThenGoneForThirtySecondsLosesNothingAndRunsNothingTwice() throws Exception {
        restartedThenGoneForThirtySeconds(0);
    }

    /**
     * The same outage on a queue whose cluster-wide concurrency (6, below the 8 workers of the two
     * nodes) is held by slots: the slots taken and given back across the restart and the outage
     * never let more than 6 run at once (from the recorded clock readings), and none is left held.
     */
    @Test
    void theSameOutageWithAClusterWideConcurrencyLimitNeverRunsMoreThanTheLimit() throws Exception {
        restartedThenGoneForThirtySeconds(6);
    }

    private void restartedThenGoneForThirtySeconds(int limit) throws Exception {
        int jobs = limit > 0 ? 1_200 : 2_000;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        try (DaemonProcess a = DaemonProcess.start(dir, config(pg.cluster().uri(database), "a", file, 4, limit));
             DaemonProcess b = DaemonProcess.start(dir, config(pg.cluster().uri(database), "b", file, 4, limit))) {
            a.awaitEvent("ready", Duration.ofSeconds(30));
            b.awaitEvent("ready", Duration.ofSeconds(30));
            a.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 20, Duration.ofSeconds(60), "first sections");
            pg.cluster().restart();
            a.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 100, Duration.ofSeconds(60), "sections after the restart");
            AdminClient admin = AdminClient.of(a);
            assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);

            Instant stopped = Instant.now();
            stopServer();
            long startsAtTheStop = sections(file).stream().filter(l -> l[0].equals("S")).count();
            assertThat(startsAtTheStop).as("work left for after the outage").isLessThan(jobs);
            awaitNotReady(a, admin, "/readyz 503 while the database is down");
            assertThat(admin.get("/readyz").body()).contains("job store is unreachable");
            Thread.sleep(OUTAGE.toMillis() - Duration.between(stopped, Instant.now()).toMillis());
            assertThat(admin.get("/readyz").statusCode()).as("still not ready at the end of the outage").isEqualTo(503);
            List<String[]> duringOutage = sections(file);
            Map<String, Integer> open = new HashMap<>();
            for (String[] l : duringOutage) {
                open.merge(l[1] + "/" + l[2], l[0].equals("S") ? 1 : -1, Integer::sum);
            }
            assertThat(open.values()).as("every section in flight at the stop finished during the outage")
                    .allSatisfy(n -> assertThat(n).isZero());
            // why before the start: a daemon may reconnect before pg_ctl -w returns
            Instant back = Instant.now();
            startServer();

            a.awaitTrue(() -> count(database, "state = 'done'") == jobs, Duration.ofSeconds(120),
                    "every job done after the outage");
            assertThat(count(database, "state <> 'done'")).as("nothing lost, nothing stuck").isZero();
            for (DaemonProcess d : List.of(a, b)) {
                assertThat(warnsAfter(d, "jobs.store-unreachable", stopped)).as("one WARN for the 30 s outage, not one per"
                        + " attempt\n%s", d.transcript()).isEqualTo(1);
                assertThat(warnsAfter(d, "jobs.store-reachable", back)).as("one INFO when it is back").isEqualTo(1);
                assertThat(d.events("jobs.store-error")).as("no per-request store errors").isEmpty();
                assertThat(d.events("job.fenced")).as("no ack rejected: no attempt was rescued").isEmpty();
                assertThat(d.events("job.recovered")).as("a node cut off by the outage is not dead").isEmpty();
                // why: the LISTEN connection's errors (57P01 at the restart, a reset at the stop) were printed
                // to stderr by the client with their stack traces, beside the one WARN line
                assertThat(d.stderr()).as("no stack trace, no raw exception line: the outage is its two event lines")
                        .noneMatch(l -> l.contains("\tat ") || l.contains("Exception"));
            }
            assertThat(admin.get("/readyz").statusCode()).as("ready again").isEqualTo(200);

            everyJobBeganOnce(file, jobs, "no job ran twice: acks were retried until they landed");
            if (limit > 0) {
                long most = SectionIntervals.read(List.of(file)).mostAtOnce(Long.MAX_VALUE);
                assertThat(most).as("sections running at once, from their recorded clock readings").isLessThanOrEqualTo(limit);
                System.out.printf("with limits.concurrency = %d: at most %d at once%n", limit, most);
            }
            System.out.printf("database restarted, then stopped %d s: %d jobs, %d begun before the stop, all done once;"
                    + " outage_ms a=%s b=%s%n", OUTAGE.toSeconds(), jobs, startsAtTheStop,
                    a.events("jobs.store-reachable").getLast().getLong("outage_ms"),
                    b.events("jobs.store-reachable").getLast().getLong("outage_ms"));
            JsonObject status = new JsonObject(admin.get("/status").body());
            assertThat(status.getJsonObject("jobs").getJsonObject("cluster").getJsonArray("nodes")).hasSizeGreaterThanOrEqualTo(2);
            terminate(a);
            terminate(b);
            if (limit > 0) {
                assertThat(pg.cluster().psql(database, "SELECT coalesce(sum(held), 0) FROM shieldpool_slots"))
                        .as("no slot left held after both nodes stopped").isEqualTo("0");
            }
        }
    }

    /**
     * The server takes no writes for a while (a failover: the primary demoted, the new one not yet
     * promoted; modelled by default_transaction_read_only, the same SQLSTATE 25006 a standby
     * answers): an outage like any other. why: the acks that failed on it were not retried, and
     * their jobs, whose sections had ended, stayed running until the stop gave them back to run
     * again; claims and heartbeats logged a WARN each second.
     */
    @Test
    void aDatabaseThatTakesNoWritesForAWhileIsAnOutageItsAcksLandAfterIt() throws Exception {
        int jobs = 400;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        try (NotifyReceiver systemd = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             DaemonProcess daemon = DaemonProcess.start(dir, config(pg.cluster().uri(database), "a", file, 4),
                     Map.of("NOTIFY_SOCKET", systemd.address()))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            daemon.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 20, Duration.ofSeconds(60), "first sections");
            AdminClient admin = AdminClient.of(daemon);
            Instant begun = Instant.now();
            readOnly();
            awaitNotReady(daemon, admin, "/readyz 503 while the database takes no writes");
            JsonObject warn = daemon.awaitEvent("jobs.store-unreachable", Duration.ofSeconds(10));
            assertThat(warn.getString("error")).contains("read-only transaction (25006)");
            assertThat(warn.getString("message")).contains("the store needs the primary");
            // systemctl status says it too (it showed only "4/4 workers, ..." while /readyz said 503)
            int trouble = systemd.await(0, m -> m.has("STATUS") && m.value("STATUS").startsWith("job store not answering; 4/4 workers"),
                    Duration.ofSeconds(10), "STATUS naming the store's outage");
            Thread.sleep(4_000);
            writable();
            systemd.await(trouble + 1, m -> m.has("STATUS") && m.value("STATUS").startsWith("4/4 workers"),
                    Duration.ofSeconds(20), "STATUS without it once the store answers again");

            daemon.awaitTrue(() -> count(database, "state = 'done'") == jobs, Duration.ofSeconds(120),
                    "every job done after the read-only spell");
            assertThat(count(database, "state <> 'done'")).as("nothing stuck running").isZero();
            assertThat(warnsAfter(daemon, "jobs.store-unreachable", begun)).as("one WARN for the spell").isEqualTo(1);
            assertThat(daemon.events("jobs.store-error")).as("no per-request store errors\n%s", daemon.transcript()).isEmpty();
            everyJobBeganOnce(file, jobs, "no job ran twice: the acks were retried until they landed");
            // why after the stop only: a spell past the node's ttl less one interval gives the
            // claimed, unstarted jobs back during it (JobFeed: the others may count it dead)
            Instant stopping = Instant.now();
            terminate(daemon);
            assertThat(warnsAfter(daemon, "job.released", stopping)).as("nothing left to give back at the stop").isZero();
        }
    }

    /**
     * A read-only spell watched by an operator: {@code /status} every 2 s (as {@code shieldpool
     * status --watch} asks it), whose queue counts and cluster view are reads, which a read-only
     * server answers; {@code /readyz} sampled every 100 ms. One outage all the same: one WARN
     * saying the server answers but takes no writes, {@code /readyz} 503 at every sample, one INFO
     * once writes land again. why: each read that succeeded marked the store reachable again and
     * the next refused write lost it again a second later, so the log showed a WARN/INFO pair per
     * look all through the spell, and {@code /readyz} answered 200 between them.
     */
    @Test
    void aReadOnlySpellWatchedThroughTheStatusPageIsOneOutageNotAFlapAfterEachRead() throws Exception {
        int jobs = 400;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(pg.cluster().uri(database), "a", file, 4))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            daemon.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 20, Duration.ofSeconds(60), "first sections");
            AdminClient admin = AdminClient.of(daemon);
            Instant begun = Instant.now();
            readOnly();
            awaitNotReady(daemon, admin, "/readyz 503 once the database takes no writes");
            long sessionsBefore = sessions(database);
            List<Integer> readiness = new ArrayList<>();
            int statusAnswered = 0;
            long spellEnds = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            for (int sample = 0; System.nanoTime() < spellEnds; sample++) {
                if (sample % 20 == 0 && admin.get("/status").statusCode() == 200) {
                    statusAnswered++;
                }
                readiness.add(admin.get("/readyz").statusCode());
                Thread.sleep(100);
            }
            long sessionsInTheSpell = sessions(database) - sessionsBefore;
            assertThat(statusAnswered).as("the status page answered (its reads reached the server)").isPositive();
            assertThat(readiness).as("/readyz at each of %d samples during the spell\n%s", readiness.size(), daemon.transcript())
                    .containsOnly(503);
            assertThat(warnsAfter(daemon, "jobs.store-unreachable", begun)).as("one WARN for the spell\n%s", daemon.transcript())
                    .isEqualTo(1);
            assertThat(warnsAfter(daemon, "jobs.store-reachable", begun)).as("no INFO while writes are refused").isZero();
            assertThat(daemon.events("jobs.store-unreachable").getLast().getString("message")).contains("answers but takes no writes");
            Instant writableAgain = Instant.now();
            writable();

            daemon.awaitTrue(() -> count(database, "state = 'done'") == jobs, Duration.ofSeconds(120),
                    "every job done after the read-only spell");
            daemon.awaitTrue(() -> {
                try {
                    return admin.get("/readyz").statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            }, Duration.ofSeconds(10), "/readyz 200 again");
            assertThat(warnsAfter(daemon, "jobs.store-reachable", writableAgain)).as("one INFO when it takes writes again")
                    .isEqualTo(1);
            assertThat(warnsAfter(daemon, "jobs.store-unreachable", begun)).as("still one WARN").isEqualTo(1);
            assertThat(daemon.events("jobs.store-reachable").getLast().getString("message")).contains("takes writes again");
            assertThat(count(database, "state <> 'done'")).as("nothing stuck running").isZero();
            everyJobBeganOnce(file, jobs, "no job ran twice: the acks were retried until they landed");
            System.out.printf("read-only spell, /status every 2 s: /readyz 503 at all %d samples, %d sessions opened to the"
                    + " database in 8 s%n", readiness.size(), sessionsInTheSpell);
            terminate(daemon);
        }
    }

    /** Sessions ever opened to {@code database} (pg_stat_database.sessions; -1 when psql fails). */
    private static long sessions(String database) {
        try {
            return Long.parseLong(pg.cluster().psql("postgres", "SELECT pg_stat_clear_snapshot(); SELECT sessions FROM pg_stat_database"
                    + " WHERE datname = '" + database + "'").lines().reduce((a, b) -> b).orElse("-1").strip());
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * An operator sets one database read-only for new sessions ({@code ALTER DATABASE ... SET
     * default_transaction_read_only = on}) and the daemon's backends are cut, so every connection it
     * opens again takes no writes (25006); then the operator resets it. why: a session keeps the
     * database's defaults it was opened with, so the pooled connections stayed read-only after the
     * RESET and the daemon never recovered until a restart (no job done, /readyz 503 for good).
     */
    @Test
    void aDatabaseSetReadOnlyForNewSessionsThenResetRecoversWithoutARestart() throws Exception {
        int jobs = 400;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(pg.cluster().uri(database), "a", file, 4))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            daemon.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 20, Duration.ofSeconds(60), "first sections");
            AdminClient admin = AdminClient.of(daemon);
            Instant begun = Instant.now();
            pg.cluster().psql("postgres", "ALTER DATABASE " + database + " SET default_transaction_read_only = on");
            pg.cluster().psql("postgres", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '"
                    + database + "'");
            awaitNotReady(daemon, admin, "/readyz 503 while the database takes no writes");
            JsonObject warn = daemon.awaitEvent("jobs.store-unreachable", Duration.ofSeconds(10));
            assertThat(warn.getString("error")).contains("(25006)");
            long doneInTheSpell = count(database, "state = 'done'");
            Thread.sleep(3_000);
            assertThat(count(database, "state = 'done'")).as("nothing acked while read-only").isEqualTo(doneInTheSpell);
            assertThat(doneInTheSpell).as("work left for after the reset").isLessThan(jobs);
            Instant reset = Instant.now();
            pg.cluster().psql("postgres", "ALTER DATABASE " + database + " RESET default_transaction_read_only");

            daemon.awaitTrue(() -> count(database, "state = 'done'") == jobs, Duration.ofSeconds(60),
                    "every job done after the reset, without a restart");
            assertThat(count(database, "state <> 'done'")).as("nothing stuck running").isZero();
            daemon.awaitTrue(() -> {
                try {
                    return admin.get("/readyz").statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            }, Duration.ofSeconds(10), "/readyz 200 again");
            assertThat(warnsAfter(daemon, "jobs.store-unreachable", begun)).as("one WARN for the spell").isEqualTo(1);
            assertThat(warnsAfter(daemon, "jobs.store-reachable", reset)).as("one INFO when it takes writes again").isEqualTo(1);
            assertThat(daemon.events("jobs.store-error")).as("no per-request store errors\n%s", daemon.transcript()).isEmpty();
            assertThat(daemon.stderr()).as("no stack trace").noneMatch(l -> l.contains("\tat ") || l.contains("Exception"));
            everyJobBeganOnce(file, jobs, "no job ran twice: the acks were retried until they landed");
            System.out.printf("ALTER DATABASE read-only, backends cut, then RESET: %d of %d jobs done before the reset,"
                    + " all done; reachable again %d ms after the RESET%n", doneInTheSpell, jobs,
                    Duration.between(reset, DaemonProcess.timestamp(daemon.events("jobs.store-reachable").getLast())).toMillis());
            terminate(daemon);
        }
    }

    /**
     * A daemon started while its database is read-only for new sessions (ALTER DATABASE) waits, and
     * starts once the operator resets it. why: the connection its first statements were refused on
     * was pooled and tried again, read-only for good: the wait never ended.
     */
    @Test
    void aDaemonStartedOnADatabaseSetReadOnlyStartsOnceItIsReset() throws Exception {
        String database = pg.databaseWithJobs(dir, 50);
        Path file = dir.resolve("sections.log");
        pg.cluster().psql("postgres", "ALTER DATABASE " + database + " SET default_transaction_read_only = on");
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(pg.cluster().uri(database), "a", file, 4))) {
            JsonObject waiting = daemon.awaitEvent("jobs.store-waiting", Duration.ofSeconds(30));
            assertThat(waiting.getString("error")).contains("(25006)");
            Thread.sleep(1_500);
            pg.cluster().psql("postgres", "ALTER DATABASE " + database + " RESET default_transaction_read_only");
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            daemon.awaitTrue(() -> count(database, "state = 'done'") == 50, Duration.ofSeconds(60), "every job done");
            assertThat(daemon.events("jobs.store-waiting")).as("one WARN for the wait").hasSize(1);
            terminate(daemon);
        }
    }

    /**
     * A daemon started on a database that takes no writes (a standby: the schema is there,
     * replicated, and only the node's row is refused) waits for it, as for a server that does not
     * answer, and starts once it does (a promotion). It exited 78, which systemd does not restart.
     */
    @Test
    void aDaemonStartedOnADatabaseThatTakesNoWritesWaitsUntilItDoes() throws Exception {
        String database = pg.databaseWithJobs(dir, 50);
        Path file = dir.resolve("sections.log");
        readOnly();
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(pg.cluster().uri(database), "a", file, 4))) {
            JsonObject waiting = daemon.awaitEvent("jobs.store-waiting", Duration.ofSeconds(30));
            assertThat(waiting.getString("error")).contains("(25006)", "the store needs the primary");
            Thread.sleep(1_500);
            assertThat(daemon.isAlive()).as("still waiting, not exited\n%s", daemon.transcript()).isTrue();
            assertThat(daemon.events("ready")).isEmpty();
            writable();
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            daemon.awaitTrue(() -> count(database, "state = 'done'") == 50, Duration.ofSeconds(60), "every job done");
            assertThat(daemon.events("jobs.store-waiting")).as("one WARN for the wait").hasSize(1);
            terminate(daemon);
        }
    }

    @Test
    void aDaemonStartedWhileTheDatabaseIsDownWaitsForItThenRunsItsJobs() throws Exception {
        String database = pg.databaseWithJobs(dir, 100);
        Path file = dir.resolve("sections.log");
        String url = pg.cluster().uri(database).replace("postgres@", "postgres:hunter2@");
        stopServer();
        try (NotifyReceiver systemd = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             DaemonProcess daemon = DaemonProcess.start(dir, config(url, "a", file, 4),
                     Map.of("NOTIFY_SOCKET", systemd.address()))) {
            JsonObject waiting = daemon.awaitEvent("jobs.store-waiting", Duration.ofSeconds(30));
            assertThat(waiting.getString("level")).isEqualTo("WARN");
            assertThat(waiting.getString("url")).doesNotContain("hunter2").contains("***");
            systemd.await(0, m -> m.has("STATUS") && m.value("STATUS").startsWith("waiting for the job store"),
                    Duration.ofSeconds(10), "STATUS saying what it waits for");
            // why 2.5 s: its retries 0.25, 0.75 and 1.75 s after the first try have failed by then (backoff
            // 0.25 s doubling); the next is at 3.75 s, so a longer wait only delays the start that follows.
            Thread.sleep(2_500);
            assertThat(daemon.isAlive()).as("still waiting, not exited\n%s", daemon.transcript()).isTrue();
            assertThat(daemon.events("jobs.store-waiting")).as("one WARN for the whole wait, not one per attempt").hasSize(1);
            assertThat(daemon.events("ready")).as("not ready while the store does not answer").isEmpty();
            assertThat(daemon.transcript()).doesNotContain("hunter2");
            assertThat(systemd.messages()).noneMatch(m -> m.has("READY=1"));

            Instant serverStarted = Instant.now();
            startServer();
            JsonObject ready = daemon.awaitEvent("ready", Duration.ofSeconds(30));
            System.out.printf("a daemon started with the database down: ready %d ms after the server started%n",
                    Duration.between(serverStarted, DaemonProcess.timestamp(ready)).toMillis());
            assertThat(daemon.events("jobs.store-reachable")).hasSize(1);
            daemon.awaitTrue(() -> count(database, "state = 'done'") == 100, Duration.ofSeconds(60), "every job done");
            terminate(daemon);
        }
    }

    /**
     * SIGTERM while the database is down, sections in flight: they run to their end, the drain
     * ends within the grace, exit 0, the outage stays one WARN with no "reachable again" while the
     * server is still down (a claim answered locally while unstarted jobs were given back was
     * taken for the database being back), and no job is lost: the jobs whose acks could not land,
     * and those claimed but not started, run at the next start.
     */
    @Test
    void aStopDuringAnOutageDrainsWithoutClaimingTheDatabaseIsBackAndLosesNothing() throws Exception {
        int jobs = 200;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        String url = pg.cluster().uri(database);
        Instant stopped;
        try (DaemonProcess a = DaemonProcess.start(dir, String.join("\n",
                "shieldpool.pool.size = 4", PostgresNodes.execRecordingWork(file, "a", "1"), PostgresNodes.store(url)))) {
            a.awaitEvent("ready", Duration.ofSeconds(30));
            a.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 6, Duration.ofSeconds(60), "first sections");
            stopped = Instant.now();
            stopServer();
            a.awaitEvent("jobs.store-unreachable", Duration.ofSeconds(15));
            a.signal("TERM");
            assertThat(a.awaitExit(Duration.ofSeconds(60))).as("drained during the outage: exit 0\n%s", a.transcript()).isZero();
            Map<String, Integer> open = new HashMap<>();
            for (String[] l : sections(file)) {
                open.merge(l[1] + "/" + l[2], l[0].equals("S") ? 1 : -1, Integer::sum);
            }
            assertThat(open.values()).as("every section in flight at the stop ran to its end").allSatisfy(n -> assertThat(n).isZero());
            assertThat(warnsAfter(a, "jobs.store-unreachable", stopped)).as("one WARN for the outage").isEqualTo(1);
            assertThat(warnsAfter(a, "jobs.store-reachable", stopped)).as("never 'reachable again' while the server is down\n%s",
                    a.transcript()).isZero();
            assertThat(a.stderr()).as("no stack trace").noneMatch(l -> l.contains("\tat ") || l.contains("Exception"));
        }
        startServer();
        try (DaemonProcess b = DaemonProcess.start(dir, String.join("\n",
                "shieldpool.pool.size = 8", PostgresNodes.execRecordingWork(file, "b", "0.01"), PostgresNodes.store(url)))) {
            b.awaitTrue(() -> count(database, "state = 'done'") == jobs, Duration.ofSeconds(60),
                    "every job done after the restart (the unlanded acks' jobs recovered)");
            terminate(b);
        }
    }

    @Test
    void aStopAskedForWhileWaitingForTheDatabaseEndsTheWait() throws Exception {
        String database = pg.cluster().createDatabase();
        stopServer();
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String config = config(pg.cluster().uri(database), "a", dir.resolve("s.log"), 2) + "\nshieldpool.admin.port = " + port;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("jobs.store-waiting", Duration.ofSeconds(30));
            // the waiting daemon does not listen yet: shieldpool status must not say only "it is not running"
            Path statusConfig = Files.writeString(dir.resolve("status.conf"), config);
            try (DaemonProcess status = DaemonProcess.launch(List.of(DaemonProcess.LAUNCHER.toString(), "status", "--config",
                    statusConfig.toString()), Map.of())) {
                assertThat(status.awaitExit(Duration.ofSeconds(30))).as(status.transcript()).isEqualTo(3);
                assertThat(status.stderr()).as(status.transcript()).anyMatch(l -> l.startsWith("shieldpool: no daemon answers at")
                        && l.endsWith(", or it still waits for its job store at start (a jobs.store-waiting line in its log)"));
            }
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(5))).as("SIGTERM while waiting: exit 0\n%s", daemon.transcript())
                    .isZero();
            assertThat(daemon.events("start.stopped")).hasSize(1);
        }
    }

    @Test
    void aDatabaseThatDoesNotExistIsAMistakeExit78AtOnce() throws Exception {
        Instant begun = Instant.now();
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(pg.cluster().uri("no_such_db"), "a", dir.resolve("s.log"), 2))) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isEqualTo(78);
            System.out.printf("wrong database name: exit 78 %d ms after the start%n",
                    Duration.between(begun, Instant.now()).toMillis());
            assertThat(daemon.events("jobs.store-waiting")).as("a mistake is not waited for").isEmpty();
            List<JsonObject> errors = new ArrayList<>(daemon.events("jobs.failed"));
            assertThat(errors).hasSize(1);
            assertThat(errors.getFirst().getString("error")).contains("no_such_db").contains("does not exist");
            assertThat(daemon.stderr()).as("no stack trace").noneMatch(l -> l.contains("\tat "));
        }
    }

    /**
     * A socket directory the daemon's user may not enter (as initdb leaves a data directory, 0700,
     * owned by the server's user): one line naming the socket and "permission denied", exit 78 at
     * once (as a wrong password), never a wait for a server "that does not answer". why runuser:
     * root passes every permission check, so as root (CI) the daemon runs as user daemon, from a
     * copy of the launcher and jar that user can read; as another user the directory is one of
     * mode 0000 holding a link to the cluster's socket.
     */
    @Test
    void aUnixSocketTheDaemonMayNotOpenIsOneLineExit78AtOnce() throws Exception {
        String database = pg.cluster().createDatabase();
        Path readable = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-denied-");
        try {
            Path socketDirectory;
            List<String> command = new ArrayList<>();
            Map<String, String> env = new HashMap<>(Map.of("SHIELDPOOL_AOT_CACHE", "none"));
            if ("root".equals(System.getProperty("user.name"))) {
                socketDirectory = pg.cluster().socketDirectory();
                assertThat(Files.getPosixFilePermissions(socketDirectory)).as("the cluster's directory, as initdb's")
                        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                Path bin = Files.createDirectories(readable.resolve("bin"));
                Files.copy(DaemonProcess.LAUNCHER, bin.resolve("shieldpool"));
                Path jar = Files.copy(DaemonProcess.LAUNCHER.toAbsolutePath().getParent().resolveSibling("target/shieldpool.jar"),
                        readable.resolve("shieldpool.jar"));
                env.put("SHIELDPOOL_JAR", jar.toString());
                command.addAll(List.of("runuser", "-u", "daemon", "--", bin.resolve("shieldpool").toString()));
            } else {
                socketDirectory = Files.createDirectories(readable.resolve("closed"));
                Files.createSymbolicLink(socketDirectory.resolve(".s.PGSQL.5432"),
                        pg.cluster().socketDirectory().resolve(".s.PGSQL.5432"));
                Files.setPosixFilePermissions(socketDirectory, java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
                command.add(DaemonProcess.LAUNCHER.toString());
            }
            Path config = readable.resolve("node.conf");
            Files.writeString(config, String.join("\n", "shieldpool.log.format = json", "shieldpool.admin.port = 0",
                    PostgresNodes.store("postgresql://postgres@/" + database + "?host=" + socketDirectory), ""));
            Files.setPosixFilePermissions(readable, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            command.addAll(List.of("--config", config.toString()));
            try (DaemonProcess daemon = DaemonProcess.launch(command, env)) {
                assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isEqualTo(78);
                assertThat(daemon.events("jobs.store-waiting")).as("not waited for").isEmpty();
                List<JsonObject> errors = daemon.events("jobs.failed");
                assertThat(errors).as(daemon.transcript()).hasSize(1);
                assertThat(errors.getFirst().getString("error")).contains("permission denied")
                        .contains(socketDirectory.resolve(".s.PGSQL.5432").toString()).contains("not retried")
                        .doesNotContain("\n");
                assertThat(daemon.stderr()).as("no stack trace").noneMatch(l -> l.contains("\tat "));
            }
        } finally {
            // why: closing a DaemonProcess kills runuser, not the JVM it started as user daemon
            ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(readable.toString()))
                    .forEach(ProcessHandle::destroyForcibly);
            if (Files.exists(readable.resolve("closed"))) {
                Files.setPosixFilePermissions(readable.resolve("closed"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            }
            try (var files = Files.walk(readable)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
