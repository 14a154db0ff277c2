package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The database behind a network partition rather than down: its packets go unanswered (no
 * refusal, no reset), which is how an outage looks from a node whose network, or the database's
 * host, has gone quiet. A {@link FreezingProxy} between a real daemon and a real PostgreSQL 15
 * holds every byte for a while, then lets it all through.
 */
@Timeout(240)
class PostgresPartitionIT {

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    private static final Duration PARTITION = Duration.ofSeconds(25);

    @TempDir
    Path dir;

    /** The proxy's way to this test class's cluster: its unix socket. */
    private static FreezingProxy proxyToTheCluster() throws java.io.IOException {
        return FreezingProxy.to(pg.cluster().socketDirectory().resolve(".s.PGSQL." + pg.cluster().port()));
    }

    /** A node's store lines for {@code database} through {@code proxy}. */
    private static String storeThrough(FreezingProxy proxy, String database) {
        return PostgresNodes.store("postgresql://postgres@127.0.0.1:" + proxy.port() + "/" + database);
    }

    /** Heartbeat every second, the given ttl, a quick poll. */
    private static String fastLeases(String ttl) {
        return String.join("\n", "shieldpool.jobs.postgresql.heartbeat-interval = 1s",
                "shieldpool.jobs.postgresql.node-ttl = " + ttl, "shieldpool.jobs.poll-interval = 250ms");
    }

    /**
     * Node a's lines: one worker, one shard, a fixed claim of 8 (8 jobs a worker at most, topped up
     * at a quarter), so its buffer holds claimed jobs behind its one section of {@code seconds}.
     */
    private static String oneWorkerBuffering(Path file, String seconds) {
        return String.join("\n", "shieldpool.pool.size = 1", "shieldpool.pool.event-loops = 1",
                "shieldpool.jobs.claim-batch = 8", PostgresNodes.execRecordingWork(file, "a", seconds));
    }

    private static void awaitReadyz(DaemonProcess daemon, AdminClient admin, int status, String why) throws InterruptedException {
        daemon.awaitTrue(() -> {
            try {
                return admin.get("/readyz").statusCode() == status;
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(30), why);
    }

    private static List<SectionIntervals.Interval> sections(Path file) {
        try {
            return SectionIntervals.read(List.of(file)).all();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    @Test
    void aPartitionIsAnOutageSeenWithinSecondsAndNothingIsLostAfterIt() throws Exception {
        int jobs = 400;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        try (FreezingProxy proxy = proxyToTheCluster();
             DaemonProcess daemon = DaemonProcess.start(dir, String.join("\n",
                     "shieldpool.pool.size = 4",
                     PostgresNodes.execRecordingWork(file, "a", "0.05"),
                     storeThrough(proxy, database),
                     "shieldpool.jobs.poll-interval = 250ms"))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            daemon.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 20, Duration.ofSeconds(60), "first sections");
            AdminClient admin = AdminClient.of(daemon);
            Instant frozen = Instant.now();
            proxy.freeze();
            JsonObject warn = daemon.awaitEvent("jobs.store-unreachable", Duration.ofSeconds(30));
            long seenAfter = Duration.between(frozen, DaemonProcess.timestamp(warn)).toMillis();
            // why 20 s: nothing fails in a partition; the store sees it when a request has waited the
            // pool's 10 s for a connection (every one of them hangs on an unanswered request)
            assertThat(seenAfter).as("the partition seen as an outage within 20 s").isLessThan(20_000);
            awaitReadyz(daemon, admin, 503, "/readyz 503 during the partition");
            long notReadyAfter = Duration.between(frozen, Instant.now()).toMillis();
            Thread.sleep(Math.max(0, PARTITION.toMillis() - notReadyAfter));
            proxy.thaw();
            Instant thawed = Instant.now();
            JsonObject back = daemon.awaitEvent("jobs.store-reachable", Duration.ofSeconds(30));
            long backAfter = Duration.between(thawed, DaemonProcess.timestamp(back)).toMillis();
            System.err.printf("PostgresPartitionIT: %d s partition: WARN after %d ms, /readyz 503 after %d ms, INFO %d ms after it healed%n",
                    PARTITION.toSeconds(), seenAfter, notReadyAfter, backAfter);
            awaitReadyz(daemon, admin, 200, "/readyz 200 once it healed");
            daemon.awaitTrue(() -> pg.allDone(database, jobs), Duration.ofSeconds(120), "every job done after the partition");
            assertThat(pg.count(database, "state <> 'done'")).as("nothing stuck running").isZero();
            assertThat(daemon.events("jobs.store-unreachable")).as("one WARN for the partition\n%s", daemon.transcript()).hasSize(1);
            assertThat(daemon.events("jobs.store-error")).as("no per-request store errors").isEmpty();
            assertThat(sections(file).stream().map(SectionIntervals.Interval::job).distinct().count())
                    .as("every job began once: what the partition held was delivered, not run again").isEqualTo(jobs);
            assertThat(sections(file)).hasSize(jobs);
            PostgresNodes.terminate(daemon, Duration.ofSeconds(40));
        }
    }

    /**
     * Two nodes; one of them (a, behind the proxy) is cut off while it holds claimed jobs it has
     * not started yet. Past its ttl the other rescues them and runs them; a must not start them
     * meanwhile, or a job would run on both nodes at once: from its ttl less one heartbeat interval
     * after its last heartbeat landed, it starts nothing it claimed, gives its buffer back, and
     * claims again only once its heartbeat lands after the partition.
     */
    @Test
    void aNodeCutOffPastItsTtlStartsNothingItHadClaimedWhileAnotherRescuesIt() throws Exception {
        int jobs = 40;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        String timing = fastLeases("4s");
        try (FreezingProxy proxy = proxyToTheCluster();
             // why 3 s sections: its buffer then holds 2-8 claimed jobs, 6 s or more of work: more
             // than the partition leaves it before its ttl
             DaemonProcess a = DaemonProcess.start(dir, String.join("\n", timing, oneWorkerBuffering(file, "3"),
                     storeThrough(proxy, database)))) {
            a.awaitEvent("ready", Duration.ofSeconds(30));
            a.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 1, Duration.ofSeconds(60), "a's first section");
            try (DaemonProcess b = DaemonProcess.start(dir, String.join("\n", timing, "shieldpool.pool.size = 4",
                    PostgresNodes.execRecordingWork(file, "b", "3"), pg.storeOf(database)))) {
                b.awaitEvent("ready", Duration.ofSeconds(30));
                Instant frozen = Instant.now();
                proxy.freeze();
                b.awaitEvent("job.recovered", Duration.ofSeconds(20));
                Thread.sleep(Math.max(0, 12_000 - Duration.between(frozen, Instant.now()).toMillis()));
                Instant thawed = Instant.now();
                proxy.thaw();
                b.awaitTrue(() -> pg.allDone(database, jobs), Duration.ofSeconds(150), "every job done");
                assertThat(pg.count(database, "state <> 'done'")).as("nothing stuck running").isZero();

                // why 5 s: a stops starting at its ttl (4 s) less one interval (1 s) after its last
                // heartbeat landed, which is before the freeze; two seconds more for a section handed
                // out just before then to start its shell and write its start line on a loaded machine
                long unsafeFrom = frozen.plusSeconds(5).toEpochMilli() * 1_000_000L;
                long until = thawed.toEpochMilli() * 1_000_000L;
                List<SectionIntervals.Interval> late = sections(file).stream()
                        .filter(i -> i.node().equals("a") && i.start() > unsafeFrom && i.start() < until).toList();
                assertThat(late).as("sections a started while cut off past its ttl (the others had rescued its jobs)\n%s",
                        a.transcript()).isEmpty();
                Map<Long, List<SectionIntervals.Interval>> byJob = sections(file).stream()
                        .collect(Collectors.groupingBy(SectionIntervals.Interval::job));
                assertThat(byJob).as("every job began").hasSize(jobs);
                PostgresNodes.terminate(b, Duration.ofSeconds(40));
            }
            PostgresNodes.terminate(a, Duration.ofSeconds(40));
        }
    }

    /**
     * As above, but a's one worker is in a section that outlasts the partition, so nothing asks
     * for a's buffer while its claims are unsafe; when the section ends its heartbeat has landed
     * again. The jobs b rescued meanwhile must not be started by a in the attempt b rescued (a
     * later claim may take them again, as a new attempt).
     */
    @Test
    void aNodeWhoseWorkerWasBusyThroughThePartitionStartsNoneOfTheJobsRescuedMeanwhile() throws Exception {
        int jobs = 10;
        String database = pg.databaseWithJobs(dir, jobs);
        Path file = dir.resolve("sections.log");
        String timing = fastLeases("3s");
        try (FreezingProxy proxy = proxyToTheCluster();
             // a claims 8 jobs, starts one (14 s) and buffers 7
             DaemonProcess a = DaemonProcess.start(dir, String.join("\n", timing, oneWorkerBuffering(file, "14"),
                     storeThrough(proxy, database)))) {
            a.awaitEvent("ready", Duration.ofSeconds(30));
            a.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 1, Duration.ofSeconds(60), "a's first section");
            Instant frozen = Instant.now();
            proxy.freeze();
            try (DaemonProcess b = DaemonProcess.start(dir, String.join("\n", timing, "shieldpool.pool.size = 5",
                    PostgresNodes.execRecordingWork(file, "b", "1"), pg.storeOf(database)))) {
                JsonObject recovered = b.awaitEvent("job.recovered", Duration.ofSeconds(30));
                long thawAt = Math.max(frozen.plusSeconds(10).toEpochMilli(), DaemonProcess.timestamp(recovered).toEpochMilli() + 500);
                Thread.sleep(Math.max(0, thawAt - System.currentTimeMillis()));
                proxy.thaw();
                b.awaitTrue(() -> pg.allDone(database, jobs), Duration.ofSeconds(120), "every job done");
                assertThat(pg.count(database, "state <> 'done'")).as("nothing stuck running").isZero();
                // why wait: a turns to its buffer only when its long section ends
                a.awaitTrue(() -> sections(file).stream().anyMatch(i -> i.node().equals("a") && i.end() > 0),
                        Duration.ofSeconds(40), "a's long section ended");
                Thread.sleep(1_500);
                java.util.Set<String> rescued = b.events("job.recovered").stream()
                        .map(e -> e.getLong("job") + "/" + e.getInteger("attempt")).collect(Collectors.toSet());
                assertThat(rescued).as("b rescued a's claimed jobs").hasSizeGreaterThan(1);
                long frozenNanos = frozen.toEpochMilli() * 1_000_000L;
                List<String> startedAgain = sections(file).stream()
                        .filter(i -> i.node().equals("a") && i.start() > frozenNanos)
                        .map(i -> i.job() + "/" + i.attempt()).filter(rescued::contains).toList();
                assertThat(startedAgain).as("attempts a started after b had rescued them (job/attempt)\n%s",
                        a.transcript()).isEmpty();
                PostgresNodes.terminate(b, Duration.ofSeconds(40));
            }
            PostgresNodes.terminate(a, Duration.ofSeconds(40));
        }
    }
}
