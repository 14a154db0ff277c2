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
            cluster.psql("postgres", "ALTER SYSTEM SET shared_buffers = '128MB'");
            cluster.psql("postgres", "ALTER SYSTEM SET max_connections = 40");
            cluster.restart();
            String database = cluster.createDatabase();
            PostgresSettings settings = PostgresSettings.of(cluster.uri(database));
            PostgresJobStore.migrate(settings);
            long filling = System.nanoTime();
            cluster.psql(database, "INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at)"
                    + " SELECT 'default', '{}', 'ready', 0, 25, now(), now() FROM generate_series(1, " + jobs + ")");
            cluster.psql(database, "VACUUM ANALYZE");
            System.out.printf(Locale.ROOT, "P3 backlog: %,d ready jobs in %.1f s, schema version %d%n", jobs,
                    (System.nanoTime() - filling) / 1e9, PostgresJobStore.SCHEMA_VERSION);

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
            Process idle = idleTransaction(cluster, database);
            List<Double> during = new ArrayList<>();
            for (int w = 1; w <= idleWindows; w++) {
                during.add(window());
                System.out.printf(Locale.ROOT, "P3 idle REPEATABLE READ transaction open, %3d s: %,8.0f jobs/s, %5.1f %% of baseline%s%n",
                        w * 10, during.getLast(), 100 * during.getLast() / base, lastReads);
            }
            String heldBack = cluster.psql(database, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'shieldpool_jobs'");
            String size = cluster.psql(database, "SELECT pg_size_pretty(pg_total_relation_size('shieldpool_jobs'))");
            try (OutputStream in = idle.getOutputStream()) {
                in.write("COMMIT;\n\\q\n".getBytes(StandardCharsets.UTF_8));
            }
            idle.waitFor(30, TimeUnit.SECONDS);
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
            System.out.printf(Locale.ROOT, "| baseline (median of %d x 10 s) | %,.0f jobs/s | |%n", baselineWindows, base);
            System.out.printf(Locale.ROOT, "| %d s held: median of the 10 s windows | %,.0f jobs/s (%.0f %%) | >= 50 %% |%n",
                    idleWindows * 10, medianDuring, 100 * medianDuring / base);
            System.out.printf(Locale.ROOT, "| %d s held: worst window | %,.0f jobs/s (%.0f %%) | >= 50 %% |%n",
                    idleWindows * 10, worst, 100 * worst / base);
            System.out.printf(Locale.ROOT, "| shieldpool_jobs at the end of the hold: n_dead_tup, total size | %s, %s | |%n", heldBack, size);
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
        java.util.Map<String, Long> readsBefore = indexReads();
        long before = acked.sum();
        long begun = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(WINDOW_NANOS);
        double rate = (acked.sum() - before) / ((System.nanoTime() - begun) / 1e9);
        long jobs = Math.max(1, acked.sum() - before);
        StringBuilder reads = new StringBuilder("; index entries read per job:");
        indexReads().forEach((index, n) -> reads.append(String.format(Locale.ROOT, " %s %.1f",
                index.replace("shieldpool_jobs_", ""), (n - readsBefore.getOrDefault(index, 0L)) / (double) jobs)));
        lastReads = reads.toString();
        return rate;
    }

    private java.util.Map<String, Long> indexReads() throws Exception {
        java.util.Map<String, Long> reads = new java.util.TreeMap<>();
        // why pg_stat_force_next_flush is not needed: backends flush their counts at least every second
        for (String line : cluster.psql(database, "SELECT indexrelname || ' ' || idx_tup_read FROM pg_stat_user_indexes"
                + " WHERE relname = 'shieldpool_jobs'").split("\n")) {
            String[] parts = line.split(" ");
            reads.put(parts[0], Long.parseLong(parts[1]));
        }
        return reads;
    }

    /** Another client (psql) that takes a snapshot and then sits idle in its transaction. */
    static Process idleTransaction(PostgresCluster cluster, String database) throws Exception {
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
                return psql;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the idle transaction did not take a snapshot");
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
