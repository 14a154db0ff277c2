package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several real daemons on one real PostgreSQL cluster: jobs enqueued with the CLI, exec sections
 * that append "S|E job attempt node" lines to a file, daemons SIGKILLed, restarted and SIGTERMed,
 * (the database going away: PostgresOutageIT). Conservation is checked from the database and from the file,
 * not from the daemons' counters.
 */
@Timeout(300)
class PostgresClusterIT {

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    @TempDir
    Path dir;

    private String config(String database, String node, Path sections, int workers, String extra) {
        return String.join("\n",
                "shieldpool.pool.size = " + workers,
                PostgresNodes.execRecordingWork(sections, node, "0.05"),
                pg.storeOf(database),
                "shieldpool.jobs.poll-interval = 250ms",
                extra);
    }

    private long count(String database, String where) {
        return pg.count(database, where);
    }

    /** Lines of the sections file: kind (S/E), job, attempt, node. */
    private static List<String[]> sections(Path file) throws Exception {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(l -> l.trim().split(" ")).toList();
    }

    @Test
    void killedNodesJobsAreRescuedByAnotherNodeNothingIsLostAndStoppedNodesCauseNoDuplicates() throws Exception {
        String database = pg.migratedDatabase(dir);
        int jobs = 900;
        pg.enqueue(dir, database, jobs);
        Path file = dir.resolve("sections.log");

        Map<String, DaemonProcess> nodes = new HashMap<>();
        for (String node : List.of("a", "b", "c")) {
            nodes.put(node, DaemonProcess.start(dir, config(database, node, file, 4, "shieldpool.jobs.limits.concurrency = 6")));
        }
        try {
            for (DaemonProcess d : nodes.values()) {
                d.awaitEvent("ready", Duration.ofSeconds(30));
            }
            // a runs sections; SIGKILL it mid-run: its running jobs must come back through b or c
            nodes.get("a").awaitTrue(() -> startsBy(file, "a") >= 20, Duration.ofSeconds(60), "node a's first sections");
            String ownerOfA = "owner LIKE '%/" + nodes.get("a").pid() + "/%'";
            nodes.get("a").awaitTrue(() -> count(database, "state = 'running' AND " + ownerOfA) > 0,
                    Duration.ofSeconds(60), "node a holding jobs");
            nodes.get("a").signal("KILL");
            Instant killed = Instant.now();
            nodes.get("a").awaitExit(Duration.ofSeconds(10));
            long runningOfA = count(database, "state = 'running' AND " + ownerOfA);
            if (runningOfA > 0) {
                JsonObject rescue = awaitRescue(List.of(nodes.get("b"), nodes.get("c")), Duration.ofSeconds(60));
                Duration rescueTime = Duration.between(killed, DaemonProcess.timestamp(rescue));
                System.out.printf("rescue after SIGKILL, by another node: %d ms (%d job(s) of the killed node were running)%n",
                        rescueTime.toMillis(), runningOfA);
            } else {
                System.out.println("the killed node held no job when it died (its acks had all landed): nothing to rescue");
            }

            // b stops politely mid-run: its unstarted jobs go back, its sections finish and are acked
            terminate(nodes.get("b"));
            nodes.get("c").awaitTrue(() -> pg.allDone(database, jobs), Duration.ofSeconds(180), "every job done");
            assertThat(count(database, "state <> 'done'")).as("nothing lost, nothing stuck").isZero();

            List<String[]> lines = sections(file);
            Map<String, Integer> startsPerJob = new HashMap<>();
            Map<String, Set<String>> nodesPerJob = new HashMap<>();
            for (String[] l : lines) {
                if (l[0].equals("S")) {
                    startsPerJob.merge(l[1], 1, Integer::sum);
                    nodesPerJob.computeIfAbsent(l[1], k -> new HashSet<>()).add(l[3]);
                }
            }
            assertThat(startsPerJob).as("every job's section began").hasSize(jobs);
            long mostAtOnce = mostRunningAtOnce(file, killed);
            System.out.printf("cluster-wide concurrency limit 6 on 3 nodes x 4 workers: at most %d sections at once"
                    + " (from the recorded intervals)%n", mostAtOnce);
            assertThat(mostAtOnce).as("sections running at once across the cluster, measured from their intervals")
                    .isLessThanOrEqualTo(6);
            List<String> duplicated = startsPerJob.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
            System.out.printf("%d jobs, %d section starts, %d job(s) run twice%n", jobs,
                    startsPerJob.values().stream().mapToInt(Integer::intValue).sum(), duplicated.size());
            Set<String> rescued = new HashSet<>();
            for (DaemonProcess d : nodes.values()) {
                d.events("job.recovered").forEach(e -> rescued.add(String.valueOf(e.getLong("job"))));
            }
            assertThat(rescued).as("the killed node's running jobs, rescued").hasSize((int) runningOfA);
            assertThat(duplicated).as("only attempts cut by the SIGKILL of a run again: a began them, another node"
                    + " rescued them (the SIGTERM of b caused none)")
                    .allSatisfy(job -> {
                        assertThat(nodesPerJob.get(job)).contains("a");
                        assertThat(rescued).contains(job);
                    });
        } finally {
            nodes.values().forEach(DaemonProcess::close);
        }
    }

    /** SIGTERM: a clean stop (exit 0, shutdown.complete), its in-flight sections finished and acked. */
    private static void terminate(DaemonProcess daemon) throws Exception {
        PostgresNodes.terminate(daemon, Duration.ofSeconds(30));
    }

    /** The most sections open at one instant, from their S/E lines; a section with no end (cut by the SIGKILL) is open until the kill. */
    private static long mostRunningAtOnce(Path file, Instant killed) throws Exception {
        return SectionIntervals.read(List.of(file)).mostAtOnce(killed.getEpochSecond() * 1_000_000_000L + killed.getNano());
    }

    private static long startsBy(Path file, String node) {
        return PostgresNodes.startsBy(file, node);
    }

    private static JsonObject awaitRescue(List<DaemonProcess> rescuers, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            for (DaemonProcess d : rescuers) {
                List<JsonObject> found = d.events("job.recovered");
                if (!found.isEmpty()) {
                    return found.getFirst();
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no node rescued the killed node's jobs within " + within);
    }

    /**
     * An operator parks a node with pool.size = 0 (SIGHUP) mid-run: its sections in flight end, its
     * buffered jobs go back at once, and from then on it claims nothing, even when jobs are
     * enqueued (a NOTIFY wakes it): another node runs them all. Before, a parked node kept up to a
     * claim cap of jobs per shard claimed, heartbeated, and run by nobody.
     */
    @Test
    void aNodeResizedToNoWorkersHoldsNoJobAndAnotherRunsThemAll() throws Exception {
        String database = pg.migratedDatabase(dir);
        pg.enqueue(dir, database, 400);
        Path file = dir.resolve("sections.log");
        Path conf = dir.resolve("a.conf");
        String preamble = "shieldpool.log.format = json\nshieldpool.admin.port = 0\n";
        Files.writeString(conf, preamble + config(database, "a", file, 8, ""));
        try (DaemonProcess a = DaemonProcess.launch(List.of(DaemonProcess.LAUNCHER.toString(), "--config", conf.toString()), Map.of())) {
            a.awaitEvent("ready", Duration.ofSeconds(30));
            a.awaitTrue(() -> startsBy(file, "a") >= 40, Duration.ofSeconds(60), "node a's first sections");
            String ofA = "state = 'running' AND owner LIKE '%/" + a.pid() + "/%'";
            assertThat(count(database, ofA)).as("a holds jobs mid-run (running and buffered)").isPositive();
            Path next = dir.resolve("a.conf.next");
            Files.writeString(next, preamble + config(database, "a", file, 0, ""));
            Files.move(next, conf, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            int resized = a.events("pool.resized").size();
            a.signal("HUP");
            a.awaitTrue(() -> a.events("pool.resized").size() > resized, Duration.ofSeconds(10), "a resized to 0");
            a.awaitTrue(() -> count(database, ofA) == 0, Duration.ofSeconds(10), "a's last sections acked, its buffer given back");
            long startsOfA = startsBy(file, "a");
            pg.enqueue(dir, database, 100);
            Thread.sleep(1_500); // six of its 250 ms polls, and the enqueue's NOTIFY
            assertThat(count(database, ofA)).as("a node with no workers claims nothing").isZero();
            assertThat(startsBy(file, "a")).as("no section began on a after its resize to 0").isEqualTo(startsOfA);
            try (DaemonProcess b = DaemonProcess.start(dir, config(database, "b", file, 8, ""))) {
                b.awaitTrue(() -> pg.allDone(database, 500), Duration.ofSeconds(120), "every job done, by b");
                assertThat(count(database, "state <> 'done'")).isZero();
                terminate(b);
            }
            terminate(a);
        }
    }

    @Test
    void aSameHostRestartRecoversItsOrphansBeforeItIsReady() throws Exception {
        String database = pg.databaseWithJobs(dir, 200);
        Path file = dir.resolve("sections.log");
        String cfg = config(database, "a", file, 4, "");
        try (DaemonProcess first = DaemonProcess.start(dir, cfg)) {
            first.awaitTrue(() -> startsBy(file, "a") >= 10, Duration.ofSeconds(60), "first sections");
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(10));
        }
        long running = count(database, "state = 'running'");
        assertThat(running).as("the killed daemon left running jobs").isPositive();
        Instant started = Instant.now();
        try (DaemonProcess second = DaemonProcess.start(dir, cfg)) {
            JsonObject ready = second.awaitEvent("ready", Duration.ofSeconds(30));
            JsonObject open = second.awaitEvent("jobs.open", Duration.ofSeconds(1));
            assertThat(open.getInteger("recovered")).as("its predecessor's jobs, at once, not after the node ttl")
                    .isEqualTo((int) running);
            assertThat(DaemonProcess.timestamp(open)).isBeforeOrEqualTo(DaemonProcess.timestamp(ready));
            System.out.printf("same-host restart: %d orphan(s) recovered %d ms after the start, ready at %d ms%n", running,
                    Duration.between(started, DaemonProcess.timestamp(open)).toMillis(),
                    Duration.between(started, DaemonProcess.timestamp(ready)).toMillis());
            second.awaitTrue(() -> pg.allDone(database, 200), Duration.ofSeconds(120), "every job done");
            terminate(second);
        }
    }
}
