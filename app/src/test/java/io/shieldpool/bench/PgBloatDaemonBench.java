package io.shieldpool.bench;

import io.shieldpool.jobs.postgresql.PostgresCluster;
import io.shieldpool.jobs.postgresql.PostgresJobStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * P3 driven by the packaged daemon (issue 17, "Bloat"): what one idle REPEATABLE READ transaction
 * of another client costs a daemon as operators run it. A throwaway PostgreSQL 15 (fsync and
 * synchronous_commit on, shared_buffers 128 MB, autovacuum as shipped), a backlog of ready no-op
 * jobs inserted with SQL, and one daemon ({@code LAUNCHER}: app/bin/shieldpool) with pool.size 64,
 * the demo kind at one step of 0 ms, the PostgreSQL store and the default job settings, plus any
 * {@code CONFIG} lines given (e.g. {@code shieldpool.jobs.limits.concurrency = 32}). Throughput is
 * counted in the database (rows in shieldpool_jobs_done) per 10 s window: a baseline, then while a
 * psql session holds a snapshot ({@code BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1 FROM
 * shieldpool_jobs LIMIT 1;}, then idle), then after it commits. Each window also gives the CPU per
 * done job of the daemon and of the server (its backends, from /proc: less disturbed by the
 * neighbours' load than the rate), the index entries read per job and the load average. Figures are
 * printed, never asserted.
 *
 * <p>Usage: {@code PgBloatBench --daemon LAUNCHER [JOBS [CONFIG...]]} (JOBS: the backlog, default
 * 2,000,000; it must outlast the run)
 */
final class PgBloatDaemonBench {

    private static final int WORKERS = 64;
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final double TICK_SECONDS = 0.01; // USER_HZ: getconf CLK_TCK is 100 on Linux

    private final Path launcher;
    private final String extra;
    private PostgresCluster cluster;
    private String database;
    private BenchProcess daemon;
    private Path postmasterPid;

    private PgBloatDaemonBench(Path launcher, String extra) {
        this.launcher = launcher;
        this.extra = extra;
    }

    static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: PgBloatBench --daemon LAUNCHER [JOBS [CONFIG...]]");
        }
        Path launcher = Path.of(args[1]).toAbsolutePath();
        int jobs = args.length > 2 ? Integer.parseInt(args[2].replace("_", "")) : 2_000_000;
        String extra = args.length > 3 ? String.join("\n", List.of(args).subList(3, args.length)) : "";
        int baselineWindows = Integer.getInteger("pg.bloat.baseline-windows", 2);
        int idleWindows = Integer.getInteger("pg.bloat.idle-windows", 6);
        new PgBloatDaemonBench(launcher, extra).run(jobs, baselineWindows, idleWindows);
    }

    /** One 10 s window's figures. */
    record Window(double rate, long done, double daemonUsPerJob, double serverUsPerJob, String load, String reads) {

        String figures() {
            return String.format(Locale.ROOT, "CPU per job: daemon %.1f us, server %.1f us; load %s; index entries read per job:%s",
                    daemonUsPerJob, serverUsPerJob, load, reads);
        }
    }

    void run(int jobs, int baselineWindows, int idleWindows) throws Exception {
        try (PostgresCluster cluster = PostgresCluster.start()) {
            this.cluster = cluster;
            // why: a bench stopped by a signal must not leave its server or its daemon running
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (daemon != null && daemon.process.isAlive()) {
                    daemon.process.destroyForcibly();
                }
                cluster.close();
            }));
            PgBloatBench.Backlog backlog = PgBloatBench.backlog(cluster, jobs);
            postmasterPid = cluster.socketDirectory().resolve("data").resolve("postmaster.pid");
            database = backlog.database();
            String settings = extra.isEmpty() ? "default job settings" : extra.replace("\n", ", ");
            System.out.printf(Locale.ROOT, "P3 daemon backlog: %,d ready jobs in %.1f s, schema version %d; one daemon, pool.size %d, no-op demo jobs, %s%n",
                    jobs, backlog.seconds(), PostgresJobStore.SCHEMA_VERSION, WORKERS, settings);

            Path conf = Files.createTempFile("shieldpool-p3-", ".conf");
            Files.writeString(conf, String.format(Locale.ROOT, """
                    shieldpool.log.format = json
                    shieldpool.log.level = info
                    shieldpool.admin.enabled = false
                    shieldpool.pool.size = %d
                    shieldpool.work.demo { steps = 1, step-duration = 0ms, log-steps = false }
                    shieldpool.shutdown.grace = 60s
                    shieldpool.jobs.store = postgresql
                    shieldpool.jobs.postgresql.url = "%s"
                    %s
                    """, WORKERS, cluster.uri(database), extra));
            daemon = new BenchProcess(List.of(launcher.toString(), "--config", conf.toString()));
            try {
                daemon.await("ready", 120_000);
                // warm-up: JIT (the daemon's CPU per job still falls in the second 10 s), prepared statements, a full pool
                Thread.sleep(TimeUnit.SECONDS.toMillis(Integer.getInteger("pg.bloat.warm-up-seconds", 20)));
                measure(jobs, baselineWindows, idleWindows, settings);
            } finally {
                daemon.signal("TERM");
                int code = daemon.awaitExit(90_000);
                System.out.println("P3 daemon exited with " + code);
                Files.deleteIfExists(conf);
            }
        }
    }

    private void measure(int jobs, int baselineWindows, int idleWindows, String settings) throws Exception {
        List<Window> baseline = new ArrayList<>();
        for (int w = 1; w <= baselineWindows; w++) {
            baseline.add(window());
            System.out.printf(Locale.ROOT, "P3 daemon baseline window %d: %,8.0f jobs/s; %s%n", w, baseline.getLast().rate(),
                    baseline.getLast().figures());
        }
        double base = PgBloatBench.median(baseline.stream().map(Window::rate).toList());
        PgBloatBench.IdleTransaction idle = PgBloatBench.IdleTransaction.open(cluster, database);
        List<Window> during = new ArrayList<>();
        for (int w = 1; w <= idleWindows; w++) {
            during.add(window());
            System.out.printf(Locale.ROOT, "P3 daemon, idle REPEATABLE READ transaction open, %3d s: %,8.0f jobs/s, %5.1f %% of baseline; %s%n",
                    w * 10, during.getLast().rate(), 100 * during.getLast().rate() / base, during.getLast().figures());
        }
        String heldBack = idle.heldBack();
        idle.commit();
        Window after = window();
        System.out.printf(Locale.ROOT, "P3 daemon, after it committed: %,8.0f jobs/s, %5.1f %% of baseline; %s%n", after.rate(),
                100 * after.rate() / base, after.figures());
        String ready = cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'ready'");
        if (ready.equals("0")) {
            System.out.println("P3 daemon: the backlog ran out; give a bigger one (the figures above are not valid)");
        }

        double medianDuring = PgBloatBench.median(during.stream().map(Window::rate).toList());
        double worst = during.stream().mapToDouble(Window::rate).min().orElse(0);
        double baseDaemonCpu = PgBloatBench.median(baseline.stream().map(Window::daemonUsPerJob).toList());
        double baseServerCpu = PgBloatBench.median(baseline.stream().map(Window::serverUsPerJob).toList());
        double heldDaemonCpu = PgBloatBench.median(during.stream().map(Window::daemonUsPerJob).toList());
        double heldServerCpu = PgBloatBench.median(during.stream().map(Window::serverUsPerJob).toList());
        double worstServerCpu = during.stream().mapToDouble(Window::serverUsPerJob).max().orElse(0);
        boolean met = medianDuring >= base / 2 && worst >= base / 2;
        System.out.println();
        System.out.println("| P3 idle REPEATABLE READ transaction, the packaged daemon (1 node x " + WORKERS + " workers, " + settings + ") | figure | goal |");
        System.out.println("|---|---|---|");
        PgBloatBench.printHoldRows(baseline.size(), base, during.size(), medianDuring, worst);
        System.out.printf(Locale.ROOT, "| goal (>= 50 %% of the baseline in the median and the worst held window) | %s | |%n",
                met ? "met" : "NOT met");
        System.out.printf(Locale.ROOT, "| CPU per job, baseline median: daemon / server | %.1f / %.1f us | |%n", baseDaemonCpu, baseServerCpu);
        System.out.printf(Locale.ROOT, "| CPU per job, held median (server worst window): daemon / server | %.1f / %.1f us (%.1f us) | |%n",
                heldDaemonCpu, heldServerCpu, worstServerCpu);
        System.out.printf(Locale.ROOT, "| after the commit | %,.0f jobs/s (%.0f %%) | |%n", after.rate(), 100 * after.rate() / base);
        System.out.printf(Locale.ROOT, "| shieldpool_jobs at the end of the hold: n_dead_tup, total size | %s | |%n", heldBack);
        System.out.printf(Locale.ROOT, "| load average (1 min) per window, baseline / held / after | %s / %s / %s | |%n",
                String.join(" ", baseline.stream().map(Window::load).toList()),
                String.join(" ", during.stream().map(Window::load).toList()), after.load());
        System.out.printf(Locale.ROOT, "| ready jobs left of the backlog (%,d) | %s | |%n", jobs, ready);
    }

    /** The next 10 s: done rows counted in the database, CPU of the daemon and of the server. */
    private Window window() throws Exception {
        Map<String, Long> readsBefore = PgBloatBench.indexReads(cluster, database);
        long doneBefore = done();
        long daemonBefore = cpuTicks(daemon.process.pid());
        long serverBefore = serverTicks();
        long begun = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(WINDOW_NANOS);
        long doneAfter = done();
        double seconds = (System.nanoTime() - begun) / 1e9;
        long daemonTicks = cpuTicks(daemon.process.pid()) - daemonBefore;
        long serverTicks = serverTicks() - serverBefore;
        long jobs = doneAfter - doneBefore;
        long per = Math.max(1, jobs);
        String reads = PgBloatBench.readsPerJob(readsBefore, PgBloatBench.indexReads(cluster, database), jobs);
        String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        return new Window(jobs / seconds, jobs, daemonTicks * TICK_SECONDS * 1e6 / per, serverTicks * TICK_SECONDS * 1e6 / per,
                load, reads);
    }

    /** Done rows: an ack moves its job into shieldpool_jobs_done (schema 3). */
    private long done() throws Exception {
        return Long.parseLong(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done"));
    }

    /**
     * CPU of the postmaster and its children (backends, autovacuum, checkpointer, walwriter...) now
     * alive. The bench's own psql backends live a few ms; the daemon's connections and autovacuum
     * workers of a window are counted (a worker that ended within the window is not).
     */
    private long serverTicks() throws IOException {
        long postmaster = Long.parseLong(Files.readAllLines(postmasterPid).getFirst().strip());
        long ticks = cpuTicks(postmaster);
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                String[] stat = stat(proc);
                if (stat != null && Long.parseLong(stat[1]) == postmaster) {
                    ticks += Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
                }
            }
        }
        return ticks;
    }

    /** utime + stime of a process, in clock ticks; 0 once it is gone. */
    static long cpuTicks(long pid) {
        String[] stat = stat(Path.of("/proc", Long.toString(pid)));
        return stat == null ? 0 : Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
    }

    /** /proc/PID/stat's fields after the command (index 0 = state, 1 = ppid, 11 = utime, 12 = stime). */
    private static String[] stat(Path proc) {
        try {
            String line = Files.readString(proc.resolve("stat"));
            return line.substring(line.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }
}
