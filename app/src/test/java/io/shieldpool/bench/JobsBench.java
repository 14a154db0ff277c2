package io.shieldpool.bench;

import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.sqlite.SqliteJobStore;
import io.shieldpool.jobs.sqlite.SqliteSettings;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.sqlite.SQLiteConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The durable-jobs benchmarks (issue 16), printing figures, asserting nothing:
 * <ul>
 *   <li>J1 raw ceiling: a plain JDBC claim+ack loop on a SQLite file (WAL, synchronous=FULL),
 *       the same schema and statements as the store, 4 threads, batch 10 and batch 32;</li>
 *   <li>J2 bulk enqueue through the store, 1,000 jobs per transaction;</li>
 *   <li>J3 the packaged daemon: no-op demo jobs (steps = 1, step-duration = 0), 64 workers,
 *       synchronous=FULL, from its ready line until every job is done, and its ratio to J1;</li>
 *   <li>J4 recovery: the daemon SIGKILLed mid-run, restarted: time from the new process's start to
 *       its ready line, and the jobs it recovered.</li>
 * </ul>
 * Usage: {@code JobsBench LAUNCHER OUTPUT_DIR [JOBS]}
 */
public final class JobsBench {

    private final Path launcher;
    private final Path dir;
    private final int jobs;

    JobsBench(Path launcher, Path dir, int jobs) {
        this.launcher = launcher;
        this.dir = dir;
        this.jobs = jobs;
    }

    public static void main(String[] args) throws Exception {
        Path launcher = Path.of(args.length > 0 ? args[0] : "app/bin/shieldpool");
        Path dir = Files.createDirectories(Path.of(args.length > 1 ? args[1] : "app/target/bench").resolve("jobs"));
        int jobs = args.length > 2 ? Integer.parseInt(args[2]) : 200_000;
        JobsBench bench = new JobsBench(launcher, dir, jobs);
        String only = System.getProperty("jobs.bench.only", "");
        // why alternating rounds and medians: the machine is shared; a neighbour's build slows
        // whichever run it lands on, and the ratio of two single runs can swing threefold.
        int rounds = Integer.getInteger("jobs.bench.rounds", 3);
        List<Double> raw10s = new ArrayList<>();
        List<Double> raw32s = new ArrayList<>();
        List<Double> enqueues = new ArrayList<>();
        List<Double> daemons = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            if (only.isEmpty() || only.contains("raw")) {
                raw10s.add(bench.rawClaimAck(4, 10));
                raw32s.add(bench.rawClaimAck(4, 32));
            }
            if (only.isEmpty() || only.contains("enqueue")) {
                enqueues.add(bench.bulkEnqueue());
            }
            if (only.isEmpty() || only.contains("daemon")) {
                daemons.add(bench.daemonThroughput());
            }
        }
        double raw10 = median(raw10s);
        double raw32 = median(raw32s);
        double enqueue = median(enqueues);
        double daemon = median(daemons);
        double[] recovery = only.isEmpty() || only.contains("recovery") ? bench.recovery() : new double[2];
        double raw = Math.max(raw10, raw32);
        System.out.println();
        System.out.printf(Locale.ROOT, "medians of %d alternating rounds, %,d jobs each%n", rounds, jobs);
        System.out.println("| durable jobs (SQLite, synchronous=FULL)            | figure        | goal      |");
        System.out.println("|----------------------------------------------------|---------------|-----------|");
        System.out.printf(Locale.ROOT, "| J1 raw JDBC claim+ack, 4 threads, batch 10         | %,9.0f/s   |           |%n", raw10);
        System.out.printf(Locale.ROOT, "| J1 raw JDBC claim+ack, 4 threads, batch 32         | %,9.0f/s   |           |%n", raw32);
        System.out.printf(Locale.ROOT, "| J2 bulk enqueue, 1,000 per transaction             | %,9.0f/s   | >= 50,000 |%n", enqueue);
        System.out.printf(Locale.ROOT, "| J3 daemon, no-op demo jobs, 64 workers             | %,9.0f/s   | >= 20,000 |%n", daemon);
        System.out.printf(Locale.ROOT, "| J3 / best J1                                       | %8.0f %%     | >= 60 %%   |%n",
                raw == 0 ? 0 : 100 * daemon / raw);
        System.out.printf(Locale.ROOT, "| J4 restart after SIGKILL: start to ready           | %,9.0f ms  | <= 2,000  |%n", recovery[0]);
        System.out.printf(Locale.ROOT, "| J4 jobs recovered at that start                    | %,9.0f     |           |%n", recovery[1]);
        System.exit(0);
    }

    private static double median(List<Double> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    // ---- J1: the raw ceiling ----

    double rawClaimAck(int threads, int batch) throws Exception {
        Path db = fresh("raw-" + batch);
        // The store creates the schema, then steps aside: the loop below is plain JDBC.
        SqliteJobStore schema = SqliteJobStore.openForTool(SqliteSettings.of(db), Clock.systemUTC());
        get(schema.close());
        int n = jobs;
        try (Connection c = connect(db); Statement s = c.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO jobs (queue, payload, state, max_attempts, run_at, created_at) VALUES ('default', '{}', 'ready', 25, 0, 0)")) {
                for (int i = 0; i < n; i++) {
                    insert.executeUpdate();
                }
            }
            s.execute("COMMIT");
        }
        LongAdder done = new LongAdder();
        List<Thread> workers = new ArrayList<>();
        long cpuBefore = cpuNanos(ProcessHandle.current());
        long begun = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            String owner = "raw-" + t;
            workers.add(Thread.ofPlatform().start(() -> {
                try (Connection c = connect(db); Statement s = c.createStatement();
                     PreparedStatement claim = c.prepareStatement("""
                             UPDATE jobs SET state = 'running', attempt = attempt + 1, owner = ?
                             WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' AND queue = 'default' AND run_at <= ?
                                          ORDER BY run_at, id LIMIT ?)
                             RETURNING id, attempt""");
                     PreparedStatement ack = c.prepareStatement("""
                             UPDATE jobs SET state = 'done', finished_at = ?, owner = NULL
                             WHERE id = ? AND state = 'running' AND owner = ? AND attempt = ?""")) {
                    List<long[]> claimed = new ArrayList<>();
                    while (true) {
                        s.execute("BEGIN IMMEDIATE");
                        // ack the previous batch and claim the next in one transaction
                        for (long[] job : claimed) {
                            ack.setLong(1, System.currentTimeMillis());
                            ack.setLong(2, job[0]);
                            ack.setString(3, owner);
                            ack.setInt(4, (int) job[1]);
                            ack.executeUpdate();
                        }
                        done.add(claimed.size());
                        claimed.clear();
                        claim.setString(1, owner);
                        claim.setLong(2, System.currentTimeMillis());
                        claim.setInt(3, batch);
                        try (ResultSet rs = claim.executeQuery()) {
                            while (rs.next()) {
                                claimed.add(new long[]{rs.getLong(1), rs.getInt(2)});
                            }
                        }
                        s.execute("COMMIT");
                        if (claimed.isEmpty()) {
                            return;
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - begun) / 1e9;
        long cpu = cpuNanos(ProcessHandle.current()) - cpuBefore;
        double rate = done.sum() / seconds;
        System.out.printf(Locale.ROOT, "J1 raw claim+ack: %d jobs, %d threads, batch %d: %.2f s, %,.0f jobs/s, CPU %.2f s (%.1f us/job)%n",
                done.sum(), threads, batch, seconds, rate, cpu / 1e9, cpu / 1e3 / Math.max(1, done.sum()));
        return rate;
    }

    /**
     * CPU time (user + system, all threads) a process has used so far, in ns; on Linux read from
     * /proc/PID/stat. Per job it is the figure the neighbours' load disturbs least.
     */
    private static long cpuNanos(ProcessHandle process) {
        return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    private static Connection connect(Path db) throws Exception {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setBusyTimeout(30_000);
        return DriverManager.getConnection("jdbc:sqlite:" + db, config.toProperties());
    }

    // ---- J2: bulk enqueue ----

    double bulkEnqueue() throws Exception {
        Path db = fresh("enqueue");
        SqliteJobStore store = SqliteJobStore.openForTool(SqliteSettings.of(db), Clock.systemUTC());
        List<List<NewJob>> batches = new ArrayList<>();
        for (int i = 0; i < jobs; i += 1000) {
            List<NewJob> batch = new ArrayList<>(1000);
            for (int j = i; j < Math.min(jobs, i + 1000); j++) {
                batch.add(new NewJob("default", "{\"id\":" + j + "}", 25, Instant.now(), Optional.empty()));
            }
            batches.add(batch);
        }
        long begun = System.nanoTime();
        for (List<NewJob> batch : batches) {
            get(store.enqueue(batch));
        }
        double seconds = (System.nanoTime() - begun) / 1e9;
        get(store.close());
        double rate = jobs / seconds;
        System.out.printf(Locale.ROOT, "J2 bulk enqueue: %d jobs in batches of 1,000: %.2f s, %,.0f jobs/s%n", jobs, seconds, rate);
        return rate;
    }

    // ---- J3: the daemon ----

    double daemonThroughput() throws Exception {
        Path db = fresh("daemon");
        enqueueQuietly(db, jobs);
        Process daemon = startDaemon(db);
        try {
            long readyAt = awaitLine(daemon, "\"event\":\"ready\"");
            long cpuAtReady = cpuNanos(daemon.toHandle());
            long benchCpuAtReady = cpuNanos(ProcessHandle.current());
            long doneAt;
            long cpuAtDone;
            // why not the store's stats (counts per state) at each poll: ready and done rows are
            // always all the jobs together, so each poll scanned 300,000 index entries (~12 ms of
            // CPU here, taken from the daemon on the same 2 cores 10 times a second); whether any
            // job is still ready or running reads one entry of a partial index. The done jobs are
            // counted once, at the end.
            try (Connection c = connect(db); PreparedStatement unfinished = c.prepareStatement("""
                    SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_ready WHERE state = 'ready')
                        OR EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_running WHERE state = 'running')""")) {
                while (true) {
                    boolean left;
                    try (ResultSet rs = unfinished.executeQuery()) {
                        left = rs.next() && rs.getBoolean(1);
                    }
                    if (!left) {
                        doneAt = System.nanoTime();
                        cpuAtDone = cpuNanos(daemon.toHandle());
                        break;
                    }
                    Thread.sleep(20);
                }
            }
            SqliteJobStore observer = SqliteJobStore.openForTool(SqliteSettings.of(db), Clock.systemUTC());
            long done = get(observer.stats(List.of("default"))).getFirst().count(JobState.DONE);
            get(observer.close());
            if (done != jobs) {
                throw new IllegalStateException("J3: no job is ready or running, yet only " + done + " of " + jobs + " are done");
            }
            double seconds = (doneAt - readyAt) / 1e9;
            double rate = jobs / seconds;
            long cpu = cpuAtDone - cpuAtReady;
            long observerCpu = cpuNanos(ProcessHandle.current()) - benchCpuAtReady;
            System.out.printf(Locale.ROOT, "J3 daemon: %d no-op jobs, 64 workers: %.2f s from ready to all done, %,.0f jobs/s,"
                    + " daemon CPU %.2f s (%.1f us/job), this JVM's CPU meanwhile (watching) %.2f s%n",
                    jobs, seconds, rate, cpu / 1e9, cpu / 1e3 / jobs, observerCpu / 1e9);
            return rate;
        } finally {
            daemon.destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
    }

    // ---- J4: recovery after SIGKILL ----

    double[] recovery() throws Exception {
        Path db = fresh("recovery");
        enqueueQuietly(db, jobs);
        Process first = startDaemon(db);
        awaitLine(first, "\"event\":\"ready\"");
        Thread.sleep(1500);
        new ProcessBuilder("kill", "-KILL", Long.toString(first.pid())).start().waitFor();
        first.waitFor(10, TimeUnit.SECONDS);
        long started = System.nanoTime();
        Process second = startDaemon(db);
        try {
            String open = awaitLineText(second, "\"event\":\"jobs.open\"");
            long readyAt = awaitLine(second, "\"event\":\"ready\"");
            long recovered = new JsonObject(open).getLong("recovered");
            double ms = (readyAt - started) / 1e6;
            System.out.printf(Locale.ROOT, "J4 recovery: restart to ready %.0f ms, %d jobs recovered%n", ms, recovered);
            return new double[]{ms, recovered};
        } finally {
            second.destroy();
            second.waitFor(30, TimeUnit.SECONDS);
        }
    }

    // ---- helpers ----

    private Process startDaemon(Path db) throws Exception {
        Path config = dir.resolve("daemon-" + System.nanoTime() + ".conf");
        Files.writeString(config, """
                shieldpool {
                  pool.size = 64
                  log.format = json
                  admin.enabled = false
                  work.demo { steps = 1, step-duration = 0, log-steps = false }
                  jobs.store = sqlite
                  jobs.sqlite.path = "%s"
                  %s
                }
                """.formatted(db, System.getProperty("jobs.bench.extra", "")));
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(), "--config", config.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        return builder.start();
    }

    private long awaitLine(Process process, String marker) throws Exception {
        awaitLineText(process, marker);
        return System.nanoTime();
    }

    private String awaitLineText(Process process, String marker) throws Exception {
        BufferedReader reader = readers.computeIfAbsent(process,
                p -> new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.contains(marker)) {
                return line;
            }
        }
        throw new IllegalStateException("the daemon ended before " + marker);
    }

    private final java.util.Map<Process, BufferedReader> readers = new java.util.HashMap<>();

    private void enqueueQuietly(Path db, int n) {
        SqliteJobStore store = SqliteJobStore.openForTool(SqliteSettings.of(db), Clock.systemUTC());
        for (int i = 0; i < n; i += 1000) {
            List<NewJob> batch = new ArrayList<>(1000);
            for (int j = i; j < Math.min(n, i + 1000); j++) {
                batch.add(new NewJob("default", "{}", 25, Instant.EPOCH, Optional.empty()));
            }
            get(store.enqueue(batch));
        }
        get(store.close());
    }

    private Path fresh(String name) throws Exception {
        Path db = dir.resolve(name + ".db");
        for (String suffix : List.of("", "-wal", "-shm", ".lock")) {
            Files.deleteIfExists(dir.resolve(name + ".db" + suffix));
        }
        return db;
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
