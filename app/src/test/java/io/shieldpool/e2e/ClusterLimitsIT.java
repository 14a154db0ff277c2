package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster-wide limits with real daemons on a real PostgreSQL, judged from the intervals the
 * sections record themselves ({@link RecordingPlugin}), never from the daemons' counters: more
 * workers than the limit allows, so a limit that did not hold would show.
 */
@Timeout(180)
class ClusterLimitsIT {

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    private static final String KILL_TEST_LIMITS = "shieldpool.jobs.postgresql.heartbeat-interval = 1s\n"
            + "shieldpool.jobs.postgresql.node-ttl = 4s\nshieldpool.jobs.limits.concurrency = ";

    @TempDir
    Path dir;

    private String config(String database, String node, Path file, int workers, long durationMs, String limits) {
        return String.join("\n",
                "shieldpool.pool.size = " + workers,
                pg.recordingWork(file, node, Duration.ofMillis(durationMs)),
                pg.storeOf(database),
                limits);
    }

    private String enqueue(int jobs) throws Exception {
        return pg.databaseWithJobs(dir, jobs);
    }

    private boolean allDone(String database, int jobs) {
        return pg.allDone(database, jobs);
    }

    private static void terminate(DaemonProcess daemon) throws Exception {
        PostgresNodes.terminate(daemon, Duration.ofSeconds(30));
    }

    @Test
    void noMoreSectionsRunAtOnceAcrossTheClusterThanTheConcurrencyLimitAlsoAcrossAKillAndItsRescue() throws Exception {
        int jobs = 1_000;
        int limit = 5;
        String database = enqueue(jobs);
        List<String> names = List.of("a", "b", "c");
        List<Path> files = new ArrayList<>();
        List<DaemonProcess> nodes = new ArrayList<>();
        try {
            // 3 nodes x 4 workers = 12 workers for 5 slots
            for (String node : names) {
                Path file = dir.resolve("sections-" + node + ".log");
                files.add(file);
                nodes.add(DaemonProcess.start(dir, config(database, node, file, 4, 40, KILL_TEST_LIMITS + limit)));
            }
            for (DaemonProcess d : nodes) {
                d.awaitEvent("ready", Duration.ofSeconds(60));
            }
            // why the first node to run 30 sections, not a named one: under load the JVMs start
            // seconds apart, and the first ready ones may run most of the jobs before a late one
            // gets a slot (it failed so: node a had not run 30 when the others had run them all)
            nodes.getFirst().awaitTrue(() -> files.stream().anyMatch(f -> startsOf(f) >= 30), Duration.ofSeconds(60),
                    "some node's first 30 sections");
            int k = 0;
            while (startsOf(files.get(k)) < 30) {
                k++;
            }
            String victim = names.get(k);
            DaemonProcess a = nodes.get(k);
            a.signal("KILL");
            Instant killed = Instant.now();
            a.awaitExit(Duration.ofSeconds(10));
            assertThat(allDone(database, jobs)).as("jobs left for after the kill").isFalse();
            // a restart on the same host: its orphans come back at once, it runs sections again
            Path again = dir.resolve("sections-" + victim + "2.log");
            files.add(again);
            DaemonProcess restarted = DaemonProcess.start(dir, config(database, victim + "2", again, 4, 40,
                    KILL_TEST_LIMITS + limit));
            nodes.add(restarted);
            restarted.awaitTrue(() -> allDone(database, jobs), Duration.ofSeconds(120), "every job done");

            SectionIntervals intervals = SectionIntervals.read(files);
            long killNanos = killed.getEpochSecond() * 1_000_000_000L + killed.getNano();
            // why open until the kill: a section the killed node had begun and not ended died with it
            List<SectionIntervals.Interval> cut = intervals.all().stream().filter(i -> i.end() < 0).toList();
            assertThat(cut).allSatisfy(i -> assertThat(i.node()).isEqualTo(victim));
            long most = intervals.mostAtOnce(killNanos);
            System.out.printf("limit %d on 3 nodes x 4 workers (%s SIGKILLed and restarted), %d sections of 40 ms:"
                    + " at most %d running at once (from the recorded intervals)%n", limit, victim, intervals.starts(), most);
            assertThat(most).as("sections running at once across the cluster, from their own records").isLessThanOrEqualTo(limit);
            assertThat(intervals.all().stream().map(SectionIntervals.Interval::job).distinct().count())
                    .as("every job's section ran").isEqualTo(jobs);
            assertThat(pg.cluster().psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state <> 'done'")).isEqualTo("0");
            for (DaemonProcess d : nodes) {
                if (d != a) {
                    terminate(d);
                }
            }
        } finally {
            nodes.forEach(DaemonProcess::close);
        }
    }

    @Test
    void aNodeThatStartsLaterGetsTheNextFreedSlotsWhileTheOthersHoldThemAll() throws Exception {
        int jobs = 400;
        int limit = 4;
        String database = enqueue(jobs);
        List<Path> files = new ArrayList<>();
        List<DaemonProcess> nodes = new ArrayList<>();
        try {
            // a and b: 2 workers each, as many as the limit: once they run, every slot is theirs,
            // and their acks would keep passing them on to their own next jobs
            for (String node : List.of("a", "b")) {
                Path file = dir.resolve("fair-" + node + ".log");
                files.add(file);
                nodes.add(DaemonProcess.start(dir, config(database, node, file, 2, 300,
                        "shieldpool.jobs.limits.concurrency = " + limit)));
            }
            for (DaemonProcess d : nodes) {
                d.awaitEvent("ready", Duration.ofSeconds(60));
            }
            nodes.getFirst().awaitTrue(() -> startsOf(files.get(0)) >= 4 && startsOf(files.get(1)) >= 4,
                    Duration.ofSeconds(60), "a and b running sections");
            Path fileC = dir.resolve("fair-c.log");
            files.add(fileC);
            // why: c's wait begins at its first take of a slot, which a cold JVM on a loaded machine
            // makes some hundreds of ms after its ready line; a and b run on meanwhile, as they should
            WantedSlots wanted = WantedSlots.listen(pg.cluster().uri(database));
            DaemonProcess c = DaemonProcess.start(dir, config(database, "c", fileC, 2, 300,
                    "shieldpool.jobs.limits.concurrency = " + limit));
            nodes.add(c);
            Instant ready = DaemonProcess.timestamp(c.awaitEvent("ready", Duration.ofSeconds(60)));
            c.awaitTrue(() -> startsOf(fileC) >= 1, Duration.ofSeconds(60), "c's first section");
            long readyNanos = ready.getEpochSecond() * 1_000_000_000L + ready.getNano();
            long waitNanos = wanted.firstAfter(readyNanos);
            wanted.close();

            SectionIntervals intervals = SectionIntervals.read(files);
            long firstOfC = intervals.all().stream().filter(i -> i.node().equals("c")).mapToLong(SectionIntervals.Interval::start)
                    .min().orElseThrow();
            long othersStartedMeanwhile = intervals.all().stream()
                    .filter(i -> !i.node().equals("c") && i.start() > waitNanos && i.start() < firstOfC).count();
            long othersSinceReady = intervals.all().stream()
                    .filter(i -> !i.node().equals("c") && i.start() > readyNanos && i.start() < firstOfC).count();
            long freedBefore = intervals.all().stream().filter(i -> !i.node().equals("c") && i.end() > 0 && i.end() <= firstOfC)
                    .mapToLong(SectionIntervals.Interval::end).max().orElseThrow();
            System.out.printf("limit %d held by a and b (2 x 2 workers, 300 ms sections): c's first section %.0f ms after c was"
                    + " ready (its wait for a slot told %.0f ms after ready), %.1f ms after the slot it took was freed;"
                    + " a and b started %d section(s) after c began to wait, %d after c was ready%n",
                    limit, (firstOfC - readyNanos) / 1e6, (waitNanos - readyNanos) / 1e6, (firstOfC - freedBefore) / 1e6,
                    othersStartedMeanwhile, othersSinceReady);
            // why this bound: from c's first (short) take on, its wait makes every section end of a
            // and b give its slot back and keeps their takes off it; only the sections already
            // starting when c began to wait (at most one per slot) may still pass a slot on
            assertThat(othersStartedMeanwhile).as("sections a and b started after c began to wait for a slot and before c's first")
                    .isLessThanOrEqualTo(limit);
            // and c keeps getting its turns: over the next sections, every node runs some
            long before = intervals.starts();
            c.awaitTrue(() -> startsOf(fileC) >= 6, Duration.ofSeconds(60), "c's later sections");
            SectionIntervals later = SectionIntervals.read(files);
            java.util.Map<String, Long> share = later.all().stream().filter(i -> i.start() > firstOfC)
                    .collect(java.util.stream.Collectors.groupingBy(SectionIntervals.Interval::node,
                            java.util.stream.Collectors.counting()));
            System.out.printf("after c's first section: %s (%d sections in all)%n", share, later.starts() - before);
            assertThat(share.keySet()).as("nodes that ran sections after c's first").contains("a", "b", "c");
            assertThat(later.mostAtOnce(Long.MAX_VALUE)).as("sections at once, from their own records").isLessThanOrEqualTo(limit);
            for (DaemonProcess d : nodes) {
                terminate(d);
            }
        } finally {
            nodes.forEach(DaemonProcess::close);
        }
    }

    /**
     * A node whose heartbeat cannot land (here its row is locked by another session; in life a
     * heartbeat stuck or slow while claims and acks still pass) stops starting sections before the
     * others may count it dead; its workers that have a job and a free slot meanwhile wait without
     * spinning on the event loops (they did: woken to find no permit, again and again, which delays
     * the heartbeat further), and they start again once the heartbeat lands.
     */
    @Test
    void aNodeWhoseHeartbeatCannotLandStartsNothingIdlesMeanwhileAndResumesOnceItLands() throws Exception {
        int jobs = 3_000;
        String database = enqueue(jobs);
        Path file = dir.resolve("sections-a.log");
        try (DaemonProcess a = DaemonProcess.start(dir, config(database, "a", file, 4, 20, KILL_TEST_LIMITS + 4))) {
            a.awaitEvent("ready", Duration.ofSeconds(60));
            a.awaitTrue(() -> startsOf(file) >= 50, Duration.ofSeconds(60), "node a's first sections");
            // why NO KEY UPDATE: it blocks the heartbeat's UPDATE of the row and nothing else (the slot
            // rows' foreign key checks take KEY SHARE)
            CompletableFuture<String> locked = CompletableFuture.supplyAsync(() -> {
                try {
                    return pg.cluster().psql(database, "BEGIN; SELECT id FROM shieldpool_nodes FOR NO KEY UPDATE;"
                            + " SELECT pg_sleep(8); COMMIT");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // its last heartbeat was sent at most 1 s before the lock; 3 s after that (ttl 4 s less one
            // interval) it counts itself unsafe: from 4.5 s to 7.5 s it must start nothing
            Thread.sleep(4_500);
            Duration cpuBefore = a.cpu();
            long startsBefore = startsOf(file);
            Thread.sleep(3_000);
            Duration cpu = a.cpu().minus(cpuBefore);
            long startsDuring = startsOf(file) - startsBefore;
            assertThat(locked.isDone()).as("the row still locked at the end of the window").isFalse();
            locked.get(30, TimeUnit.SECONDS);
            a.awaitTrue(() -> allDone(database, jobs), Duration.ofSeconds(120), "every job done once the heartbeat landed");
            System.out.printf("heartbeat held back 8 s: %d section(s) began and %d ms of CPU in the 3 s while it was"
                    + " stale; every job done after%n", startsDuring, cpu.toMillis());
            assertThat(startsDuring).as("sections begun while the heartbeat was stale").isZero();
            assertThat(cpu).as("the daemon's CPU while it waited for its heartbeat, workers with jobs and free slots")
                    .isLessThan(Duration.ofSeconds(1));
            terminate(a);
        }
    }

    @Test
    void sectionStartsInAnySecondStayWithinRatePlusBurstAcrossTheCluster() throws Exception {
        int jobs = 150;
        double rate = 20;
        int burst = 5;
        String database = enqueue(jobs);
        // why the database's clock: the bucket spends a token as the claim makes a job running,
        // under the queue's lock (shieldpool_claim_limited refills at clock_timestamp()); the sections' own
        // start lines come a round trip and an event-loop hop later, whose jitter on cold JVMs
        // could squeeze one more start into a window that sits exactly at the bound (26 once in a
        // clean-clone CI run). Each ready -> running transition is recorded with the time it happened.
        pg.cluster().psql(database, "CREATE TABLE test_starts (at timestamptz NOT NULL);"
                + " CREATE FUNCTION test_start() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN INSERT INTO test_starts VALUES (clock_timestamp()); RETURN NULL; END $$;"
                + " CREATE TRIGGER test_start AFTER UPDATE OF state ON shieldpool_jobs FOR EACH ROW"
                + " WHEN (NEW.state = 'running' AND OLD.state IS DISTINCT FROM 'running') EXECUTE FUNCTION test_start()");
        List<Path> files = new ArrayList<>();
        List<DaemonProcess> nodes = new ArrayList<>();
        try {
            // 3 nodes x 4 workers of 10 ms sections could start ~1,200 a second
            for (String node : List.of("a", "b", "c")) {
                Path file = dir.resolve("starts-" + node + ".log");
                files.add(file);
                nodes.add(DaemonProcess.start(dir, config(database, node, file, 4, 10,
                        "shieldpool.jobs.limits { rate = " + rate + ", burst = " + burst + " }")));
            }
            for (DaemonProcess d : nodes) {
                d.awaitEvent("ready", Duration.ofSeconds(60));
            }
            nodes.getFirst().awaitTrue(() -> allDone(database, jobs), Duration.ofSeconds(60), "every job done");
            List<Long> sectionStarts = SectionIntervals.read(files).all().stream().map(SectionIntervals.Interval::start).sorted().toList();
            assertThat(sectionStarts).as("sections run").hasSize(jobs);
            List<Long> starts = pg.cluster().psql(database,
                    "SELECT (extract(epoch FROM at) * 1e9)::bigint FROM test_starts ORDER BY at").lines()
                    .map(Long::parseLong).toList();
            assertThat(starts).as("ready -> running transitions (no job ran twice)").hasSize(jobs);
            int most = mostInAnySecond(starts);
            double seconds = (starts.getLast() - starts.getFirst()) / 1e9;
            System.out.printf("rate %.0f/s, burst %d, 3 nodes x 4 workers: %d starts in %.2f s, at most %d in any 1 s window"
                    + " (database time; %d by the sections' own start lines)%n", rate, burst, jobs, seconds, most,
                    mostInAnySecond(sectionStarts));
            assertThat(most).as("section starts in any 1 s window, across the cluster").isLessThanOrEqualTo((int) rate + burst);
            assertThat(seconds).as("150 starts at 20/s after a burst of 5 take at least ~7 s").isGreaterThanOrEqualTo((jobs - burst) / rate - 1);
            for (DaemonProcess d : nodes) {
                terminate(d);
            }
        } finally {
            nodes.forEach(DaemonProcess::close);
        }
    }

    /** The most of the sorted instants {@code starts} (ns) in any window of 1 s. */
    private static int mostInAnySecond(List<Long> starts) {
        int most = 0;
        for (int i = 0, j = 0; i < starts.size(); i++) {
            while (starts.get(i) - starts.get(j) >= 1_000_000_000L) {
                j++;
            }
            most = Math.max(most, i - j + 1);
        }
        return most;
    }

    private static long startsOf(Path file) {
        try {
            return SectionIntervals.read(List.of(file)).starts();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /**
     * The test's own LISTEN on shieldpool_slots_wanted, which a node's take that got fewer slots
     * than it wanted sends (slots-take): when each arrived, by this machine's clock (the sections'
     * clock readings are the same machine's).
     */
    private static final class WantedSlots implements AutoCloseable {
        private final io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        private final io.vertx.pgclient.pubsub.PgSubscriber subscriber;
        private final List<Long> arrivals = new java.util.concurrent.CopyOnWriteArrayList<>();

        private WantedSlots(String uri) {
            subscriber = io.vertx.pgclient.pubsub.PgSubscriber.subscriber(vertx, io.vertx.pgclient.PgConnectOptions.fromUri(uri));
        }

        static WantedSlots listen(String uri) throws Exception {
            WantedSlots wanted = new WantedSlots(uri);
            io.vertx.core.Promise<Void> subscribed = io.vertx.core.Promise.promise();
            wanted.subscriber.channel("shieldpool_slots_wanted")
                    .handler(queue -> {
                        Instant now = Instant.now();
                        wanted.arrivals.add(now.getEpochSecond() * 1_000_000_000L + now.getNano());
                    })
                    .subscribeHandler(v -> subscribed.tryComplete());
            wanted.subscriber.connect().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            subscribed.future().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            return wanted;
        }

        /** The first arrival after {@code epochNanos}. */
        long firstAfter(long epochNanos) {
            return arrivals.stream().mapToLong(Long::longValue).filter(t -> t > epochNanos).min()
                    .orElseThrow(() -> new AssertionError("no node told it waits for a slot (NOTIFY shieldpool_slots_wanted) after c was ready"));
        }

        @Override
        public void close() throws Exception {
            subscriber.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
