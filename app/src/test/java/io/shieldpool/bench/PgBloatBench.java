package io.shieldpool.bench;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.postgresql.PostgresCluster;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.vertx.core.Future;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * P3 (issue 17, "Bloat"): what one idle REPEATABLE READ transaction of another client costs the
 * PostgreSQL store. A throwaway PostgreSQL 15 (fsync and synchronous_commit on, shared_buffers
 * 128 MB, autovacuum as shipped), a backlog of no-op jobs, and the store's real claim and ack
 * statements driven as a daemon drives them ({@code LOOPS} feeds, each claiming
 * {@code jobs.claim-batch} = 32 at a time and acking every job on its own, all acks in flight at
 * once). Throughput is printed per 10 s window: a baseline, then while a psql session holds a
 * snapshot ({@code BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1 FROM shieldpool_jobs LIMIT 1;},
 * then idle for 60 s), then after it commits; with each window's ratio to the baseline's median.
 * Figures are printed, never asserted.
 *
 * <p>Usage: {@code PgBloatBench [JOBS]} (the backlog, default 1,500,000; it must outlast the run).
 * {@code PgBloatBench --daemon LAUNCHER [JOBS [CONFIG...]]} runs the same scenario against the
 * packaged daemon instead ({@link PgBloatDaemonBench}).
 */
public final class PgBloatBench {

    private static final int LOOPS = 4;
    private static final int CLAIM_BATCH = 32;
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final LongAdder acked = new LongAdder();
    private volatile boolean stop;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--daemon")) {
            PgBloatDaemonBench.main(args);
            System.exit(0);
        }
        int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 1_500_000;
        int baselineWindows = Integer.getInteger("pg.bloat.baseline-windows", 2);
        int idleWindows = Integer.getInteger("pg.bloat.idle-windows", 6);
        new PgBloatBench().run(jobs, baselineWindows, idleWindows);
        System.exit(0);
    }

    void run(int jobs, int baselineWindows, int idleWindows) throws Exception {
        try (PostgresCluster cluster = PostgresCluster.start()) {
            // why: a bench stopped by a signal must not leave its server running
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
            Backlog backlog = backlog(cluster, jobs);
            String database = backlog.database();
            PostgresSettings settings = PostgresSettings.of(cluster.uri(database));
            System.out.printf(Locale.ROOT, "P3 backlog: %,d ready jobs in %.1f s, schema version %d%n", jobs,
                    backlog.seconds(), PostgresJobStore.SCHEMA_VERSION);

            PostgresJobStore store = PostgresJobStore.openForDaemon(settings, JobOwner.thisProcess(), Clock.systemUTC());
            List<Thread> loops = new ArrayList<>();
            for (int i = 0; i < LOOPS; i++) {
                loops.add(Thread.ofVirtual().start(() -> feed(store)));
            }
            Thread.sleep(5_000); // warm-up: JIT, prepared statements, a full pool
            this.cluster = cluster;
            this.database = database;
            List<Double> baseline = new ArrayList<>();
            for (int w = 1; w <= baselineWindows; w++) {
                baseline.add(window());
                System.out.printf(Locale.ROOT, "P3 baseline window %d: %,.0f jobs/s%s%n", w, baseline.getLast(), lastReads);
            }
            double base = median(baseline);
            IdleTransaction idle = IdleTransaction.open(cluster, database);
            List<Double> during = new ArrayList<>();
            for (int w = 1; w <= idleWindows; w++) {
                during.add(window());
                System.out.printf(Locale.ROOT, "P3 idle REPEATABLE READ transaction open, %3d s: %,8.0f jobs/s, %5.1f %% of baseline%s%n",
                        w * 10, during.getLast(), 100 * during.getLast() / base, lastReads);
            }
            String heldBack = idle.heldBack();
            idle.commit();
            double after = window();
            System.out.printf(Locale.ROOT, "P3 after it committed: %,.0f jobs/s, %.1f %% of baseline%n", after, 100 * after / base);
            stop = true;
            for (Thread loop : loops) {
                loop.join(30_000);
            }
            String left = cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs");
            get(store.close());

            double medianDuring = median(during);
            double worst = during.stream().mapToDouble(Double::doubleValue).min().orElse(0);
            System.out.println();
            System.out.println("| P3 idle REPEATABLE READ transaction (PostgreSQL store, " + LOOPS + " feeds x claim 32) | figure | goal |");
            System.out.println("|---|---|---|");
            printHoldRows(baselineWindows, base, idleWindows, medianDuring, worst);
            System.out.printf(Locale.ROOT, "| shieldpool_jobs at the end of the hold: n_dead_tup, total size | %s | |%n", heldBack);
            System.out.printf(Locale.ROOT, "| rows left in shieldpool_jobs (backlog %,d, acked %,d) | %s | |%n", jobs, acked.sum(), left);
        }
    }

    /** One feed: claims a batch, acks each job of it on its own (all in flight at once), again. */
    private void feed(PostgresJobStore store) {
        while (!stop) {
            List<Job> claimed = get(store.claim("default", CLAIM_BATCH));
            if (claimed.isEmpty()) {
                System.out.println("P3: the backlog ran out; give a bigger one");
                stop = true;
                return;
            }
            List<Future<Boolean>> acks = new ArrayList<>(claimed.size());
            for (Job job : claimed) {
                acks.add(store.complete(job));
            }
            for (Future<Boolean> ack : acks) {
                if (get(ack)) {
                    acked.increment();
                }
            }
        }
    }

    private PostgresCluster cluster;
    private String database;
    private String lastReads = "";

    /**
     * Jobs acked per second over the next 10 s. Also notes, per acked job, the index entries the
     * server read in that window (pg_stat_user_indexes.idx_tup_read): a figure the neighbours'
     * load does not change, which grows when statements walk entries vacuum could not remove.
     */
    private double window() throws Exception {
        Map<String, Long> readsBefore = indexReads(cluster, database);
        long before = acked.sum();
        long begun = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(WINDOW_NANOS);
        double rate = (acked.sum() - before) / ((System.nanoTime() - begun) / 1e9);
        long jobs = acked.sum() - before;
        lastReads = "; index entries read per job:" + readsPerJob(readsBefore, indexReads(cluster, database), jobs);
        return rate;
    }

    /** The ready backlog's database (a new one, of the current schema) and the seconds its rows took to insert. */
    record Backlog(String database, double seconds) {}

    /**
     * The server as both P3 benches set it up (shared_buffers 128 MB, 40 connections; a restart),
     * and a new database holding {@code jobs} ready no-op jobs, vacuumed and analysed.
     */
    static Backlog backlog(PostgresCluster cluster, int jobs) throws Exception {
        cluster.psql("postgres", "ALTER SYSTEM SET shared_buffers = '128MB'");
        cluster.psql("postgres", "ALTER SYSTEM SET max_connections = 40");
        cluster.restart();
        String database = cluster.createDatabase();
        PostgresJobStore.migrate(PostgresSettings.of(cluster.uri(database)));
        long filling = System.nanoTime();
        cluster.psql(database, "INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at)"
                + " SELECT 'default', '{}', 'ready', 0, 25, now(), now() FROM generate_series(1, " + jobs + ")");
        cluster.psql(database, "VACUUM ANALYZE");
        return new Backlog(database, (System.nanoTime() - filling) / 1e9);
    }

    /** Index entries read so far (pg_stat_user_indexes.idx_tup_read), per index of shieldpool_jobs. */
    static Map<String, Long> indexReads(PostgresCluster cluster, String database) throws Exception {
        Map<String, Long> reads = new TreeMap<>();
        // why pg_stat_force_next_flush is not needed: backends flush their counts at least every second
        for (String line : cluster.psql(database, "SELECT indexrelname || ' ' || idx_tup_read FROM pg_stat_user_indexes"
                + " WHERE relname = 'shieldpool_jobs'").split("\n")) {
            String[] parts = line.split(" ");
            reads.put(parts[0], Long.parseLong(parts[1]));
        }
        return reads;
    }

    /** " ready 3.1 running 1.2 ...": the entries each index gave between two {@link #indexReads}, per job done meanwhile. */
    static String readsPerJob(Map<String, Long> before, Map<String, Long> after, long jobs) {
        long per = Math.max(1, jobs);
        StringBuilder reads = new StringBuilder();
        after.forEach((index, n) -> reads.append(String.format(Locale.ROOT, " %s %.1f",
                index.replace("shieldpool_jobs_", ""), (n - before.getOrDefault(index, 0L)) / (double) per)));
        return reads.toString();
    }

    /** The summary rows both P3 benches print first: the baseline, and the held windows' median and worst against it. */
    static void printHoldRows(int baselineWindows, double base, int idleWindows, double medianDuring, double worst) {
        System.out.printf(Locale.ROOT, "| baseline (median of %d x 10 s) | %,.0f jobs/s | |%n", baselineWindows, base);
        System.out.printf(Locale.ROOT, "| %d s held: median of the 10 s windows | %,.0f jobs/s (%.0f %%) | >= 50 %% |%n",
                idleWindows * 10, medianDuring, 100 * medianDuring / base);
        System.out.printf(Locale.ROOT, "| %d s held: worst window | %,.0f jobs/s (%.0f %%) | >= 50 %% |%n",
                idleWindows * 10, worst, 100 * worst / base);
    }

    /** Another client (psql) that takes a snapshot and then sits idle in its transaction, until {@link #commit}. */
    record IdleTransaction(Process psql, PostgresCluster cluster, String database) {

        static IdleTransaction open(PostgresCluster cluster, String database) throws Exception {
            Process psql = new ProcessBuilder("/usr/lib/postgresql/15/bin/psql", "-X", "-q", "-h",
                    cluster.socketDirectory().toString(), "-U", "postgres", "-d", database)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            OutputStream in = psql.getOutputStream();
            in.write("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1 FROM shieldpool_jobs LIMIT 1;\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            for (int i = 0; i < 100; i++) {
                String held = cluster.psql(database, "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
                        + " AND backend_xmin IS NOT NULL AND application_name = 'psql'");
                if (held.equals("1")) {
                    return new IdleTransaction(psql, cluster, database);
                }
                Thread.sleep(50);
            }
            throw new IllegalStateException("the idle transaction did not take a snapshot");
        }

        /** "n_dead_tup, total size" of shieldpool_jobs now: what the hold has left so far. */
        String heldBack() throws Exception {
            String deadTuples = cluster.psql(database, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'shieldpool_jobs'");
            String size = cluster.psql(database, "SELECT pg_size_pretty(pg_total_relation_size('shieldpool_jobs'))");
            return deadTuples + ", " + size;
        }

        /** Commits the transaction and ends psql (waiting at most 30 s). */
        void commit() throws Exception {
            try (OutputStream in = psql.getOutputStream()) {
                in.write("COMMIT;\n\\q\n".getBytes(StandardCharsets.UTF_8));
            }
            psql.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
