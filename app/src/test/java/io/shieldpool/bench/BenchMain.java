package io.shieldpool.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The whole-process benchmark suite: scenarios B1-B7 of the performance issue, B8-B10 of issue 13, P1-P2 of
 * issue 17 (PostgreSQL, {@link PgBench}), each run against
 * the packaged daemon (through its launcher, with the launcher's default JVM flags) and, where the
 * scenario applies, the hand-written JDK virtual-thread {@link Baseline}, alternating runs, with
 * medians and ratios. Figures are printed, never asserted: the machine is shared and noisy.
 *
 * <p>Usage: {@code BenchMain [full|tiny] LAUNCHER OUTPUT_DIR [B1,B8,...]} (the last: only these scenarios;
 * from Maven: {@code -Dbench.scenarios=C1})
 */
public final class BenchMain {

    /** One figure; {@code met} is null where the issue sets no target. */
    record Row(String scenario, String metric, double shieldpool, double baseline, String target, Boolean met) {
    }

    private final boolean full;
    private final Path launcher;
    private final Path dir;
    private final List<Row> rows = new ArrayList<>();
    private final PrintStream out = System.out;

    /** Scenarios run only when named (diagnostics, not figures of the issue): P1R, rounds of 1 and 4 nodes in the same processes; P1T, cold pairs with graphile-worker. */
    private static final List<String> EXPLICIT_ONLY = List.of("P1R", "P1T");

    /** Scenario names to run ("B8", "B9"...); empty runs them all but {@link #EXPLICIT_ONLY}. */
    private final List<String> only;

    BenchMain(boolean full, Path launcher, Path dir) {
        this(full, launcher, dir, List.of());
    }

    BenchMain(boolean full, Path launcher, Path dir, List<String> only) {
        this.full = full;
        this.launcher = launcher;
        this.dir = dir;
        this.only = only;
    }

    public static void main(String[] args) throws Exception {
        boolean full = args.length == 0 || !args[0].equals("tiny");
        Path launcher = Path.of(args.length > 1 ? args[1] : "app/bin/shieldpool");
        Path dir = Files.createDirectories(Path.of(args.length > 2 ? args[2] : "app/target/bench"));
        // why blanks dropped: the bench profile passes -Dbench.scenarios, empty unless given
        List<String> only = args.length > 3 ? java.util.Arrays.stream(args[3].split(",")).map(String::strip)
                .filter(name -> !name.isEmpty()).toList() : List.of();
        BenchMain bench = new BenchMain(full, launcher, dir, only);
        bench.runAll();
        bench.print();
        System.exit(0);
    }

    void runAll() throws Exception {
        PeerBench peers = new PeerBench(full, launcher, dir, this::add);
        PgBench pg = new PgBench(full, launcher, dir, this::add);
        List<Scenario> all = List.of(
                new Scenario("B1", this::b1ExitAfterLastSection), new Scenario("B2", this::b2NoOpThroughput),
                new Scenario("B3", this::b3HundredThousand), new Scenario("B4", this::b4Million),
                new Scenario("B5", this::b5SpawnToReady), new Scenario("B6", this::b6IdleMemory),
                new Scenario("B7", this::b7Resize), new Scenario("B8", this::b8StatusPolling),
                new Scenario("B9", peers::b9HttpKind), new Scenario("B10", peers::b10ExecKind),
                new Scenario("C1", this::c1ClusterLimit),
                new Scenario("P1", pg::p1Throughput), new Scenario("P1R", pg::p1Rounds), new Scenario("P1T", pg::p1ColdPairs), new Scenario("P2", pg::p2KillTest));
        try (pg) {
            for (Scenario scenario : all) {
                if (only.isEmpty() ? !EXPLICIT_ONLY.contains(scenario.name()) : only.contains(scenario.name())) {
                    scenario.body().run();
                }
            }
        }
    }

    interface Body {
        void run() throws Exception;
    }

    record Scenario(String name, Body body) {
    }

    /** Where a scenario reports a figure. */
    interface Rows {
        void add(String scenario, String metric, double ours, double baseline, String target, Boolean met);
    }

    List<Row> rows() {
        return rows;
    }

    // ---- scenarios ----

    private void b1ExitAfterLastSection() throws Exception {
        int reps = full ? 5 : 1;
        double[] ours = new double[reps];
        double[] base = new double[reps];
        for (int i = 0; i < reps; i++) {
            ours[i] = exitLatencyMs(daemon(3, 3, 200), 300);
            base[i] = exitLatencyMs(baseline(3, 3, 200), 300);
        }
        add("B1 exit after last section (3 workers, 3x200ms)", "ms", median(ours), median(base), "<= 10 ms",
                median(ours) <= 10);
    }

    private double exitLatencyMs(BenchProcess p, long runMs) throws Exception {
        p.await("ready", 30_000);
        Thread.sleep(runMs);
        p.signal("TERM");
        long complete = p.await("shutdown.complete", 60_000);
        p.awaitExit(30_000);
        return (p.exitNanos() - complete) / 1e6;
    }

    private void b2NoOpThroughput() throws Exception {
        int workers = full ? 1000 : 100;
        long runMs = full ? 5000 : 1000;
        int reps = full ? 3 : 1;
        double[] ours = new double[reps];
        double[] base = new double[reps];
        for (int i = 0; i < reps; i++) {
            ours[i] = throughput(daemon(workers, 3, 0), runMs).rate;
            base[i] = throughput(baseline(workers, 3, 0), runMs).rate;
        }
        double ratio = median(ours) / median(base);
        add("B2 sections/s, " + workers + " workers, 3 no-op steps", "sections/s", median(ours), median(base),
                ">= 1.2x baseline", ratio >= 1.2);
    }

    record Throughput(double rate, long completed, double windowS, long peakRssKb, double exitMs, double readyMs) {
    }

    private Throughput throughput(BenchProcess p, long runMs) throws Exception {
        long ready = p.await("ready", 120_000);
        long peak = 0;
        long until = System.nanoTime() + runMs * 1_000_000;
        while (System.nanoTime() < until) {
            peak = Math.max(peak, p.memoryKb("VmHWM"));
            Thread.sleep(100);
        }
        peak = Math.max(peak, p.memoryKb("VmHWM"));
        p.signal("TERM");
        long complete = p.await("shutdown.complete", 120_000);
        peak = Math.max(peak, p.memoryKb("VmHWM"));
        p.awaitExit(60_000);
        JsonObject summary = p.event("shutdown.complete");
        double window = (complete - ready) / 1e9;
        long completed = summary.getLong("completed");
        return new Throughput(completed / window, completed, window, peak, (p.exitNanos() - complete) / 1e6,
                (ready - p.spawnNanos) / 1e6);
    }

    private void b3HundredThousand() throws Exception {
        int workers = full ? 100_000 : 1000;
        long stepMs = full ? 1000 : 100;
        long runMs = full ? 10_000 : 1000;
        Throughput ours = throughput(daemon(workers, 3, stepMs), runMs);
        Throughput base = throughput(baseline(workers, 3, stepMs), runMs);
        double ideal = workers / (3 * stepMs / 1000.0);
        add("B3 " + workers + " workers, 3x" + stepMs + "ms: rate", "% of ideal", 100 * ours.rate / ideal,
                100 * base.rate / ideal, ">= 99%", ours.rate / ideal >= 0.99);
        add("B3 peak RSS", "MB", ours.peakRssKb / 1024.0, base.peakRssKb / 1024.0, "<= 200 MB",
                ours.peakRssKb <= 200 * 1024);
        add("B3 exit after last section", "ms", ours.exitMs, base.exitMs, "<= 50 ms", ours.exitMs <= 50);
    }

    private void b4Million() throws Exception {
        int workers = full ? 1_000_000 : 10_000;
        long stepMs = full ? 1000 : 100;
        long runMs = full ? 10_000 : 1000;
        Throughput ours = throughput(daemon(workers, 3, stepMs), runMs);
        Throughput base = throughput(baseline(workers, 3, stepMs), runMs);
        double ideal = workers / (3 * stepMs / 1000.0);
        add("B4 " + workers + " workers, 3x" + stepMs + "ms: rate", "% of ideal", 100 * ours.rate / ideal,
                100 * base.rate / ideal, ">= 90%", ours.rate / ideal >= 0.90);
        add("B4 spawn to ready", "ms", ours.readyMs, base.readyMs, "<= 2000 ms", ours.readyMs <= 2000);
        add("B4 peak RSS", "MB", ours.peakRssKb / 1024.0, base.peakRssKb / 1024.0, "<= 1024 MB",
                ours.peakRssKb <= 1024 * 1024);
        add("B4 exit after last section", "ms", ours.exitMs, base.exitMs, "<= 100 ms", ours.exitMs <= 100);
    }

    private void b5SpawnToReady() throws Exception {
        int reps = full ? 7 : 1;
        double[] ours = new double[reps];
        double[] base = new double[reps];
        for (int i = 0; i < reps; i++) {
            ours[i] = spawnToReady(daemon(3, 3, 1000));
            base[i] = spawnToReady(baseline(3, 3, 1000));
        }
        add("B5 spawn to ready, 3 workers", "ms", median(ours), median(base), "<= 250 ms", median(ours) <= 250);
    }

    private double spawnToReady(BenchProcess p) throws Exception {
        long ready = p.await("ready", 30_000);
        p.signal("TERM");
        p.awaitExit(30_000);
        return (ready - p.spawnNanos) / 1e6;
    }

    private void b6IdleMemory() throws Exception {
        long settleMs = full ? 5000 : 1000;
        BenchProcess ours = daemon(3, 3, 1000);
        BenchProcess base = baseline(3, 3, 1000);
        ours.await("ready", 30_000);
        base.await("ready", 30_000);
        Thread.sleep(settleMs);
        long oursKb = ours.memoryKb("VmRSS");
        long baseKb = base.memoryKb("VmRSS");
        base.signal("TERM");
        base.awaitExit(30_000);
        add("B6 RSS, 3 idle-stepping workers", "MB", oursKb / 1024.0, baseKb / 1024.0, "<= 64 MB", oursKb <= 64 * 1024);
        // What an operator sees after a while: scrapes and status reads touch the young generation
        // and make the JIT compile (and glibc keep) more. No target in the issue; the figure guards
        // the launcher's heap and trimming flags, which took it from ~200 MB to ~90 MB.
        int requests = full ? 500 : 20;
        long steadyKb;
        try {
            adminRequests(ours, requests);
            Thread.sleep(full ? 6000 : 500);
            steadyKb = ours.memoryKb("VmRSS");
        } finally {
            ours.signal("TERM");
            ours.awaitExit(30_000);
        }
        add("B6 RSS after " + requests + " /metrics and " + requests + " /status requests", "MB", steadyKb / 1024.0,
                Double.NaN, "none (was ~200 MB)", null);
    }

    private static void adminRequests(BenchProcess p, int each) throws Exception {
        int port = p.event("admin.listening").getInteger("port");
        try (HttpClient client = HttpClient.newHttpClient()) {
            for (String path : List.of("/metrics", "/status")) {
                URI uri = URI.create("http://127.0.0.1:" + port + path);
                for (int i = 0; i < each; i++) {
                    var response = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("GET " + path + " answered " + response.statusCode());
                    }
                }
            }
        }
    }

    /**
     * B8 (issue 13): 1000 workers, 4 clients polling {@code /status?workers=1000} back to back for 60 s.
     * Peak RSS, and the pool's rate while polled against its rate just before, in the same process.
     */
    private void b8StatusPolling() throws Exception {
        int workers = full ? 1000 : 100;
        // why 9 s: the workers start together, so sections end in waves every 3 steps; a window of a
        // whole number of waves measures the rate, not where the window falls.
        long quietMs = full ? 9_000 : 900;
        long pollMs = full ? 60_000 : 3000;
        long stepMs = full ? 1000 : 100;
        BenchProcess p = daemon(workers, 3, stepMs);
        p.await("ready", 30_000);
        int port = p.event("admin.listening").getInteger("port");
        URI totals = URI.create("http://127.0.0.1:" + port + "/status?workers=0");
        URI status = URI.create("http://127.0.0.1:" + port + "/status?workers=" + workers);
        Thread.sleep(full ? 3000 : 300); // past the first sections' start-up wave
        long peak;
        double quietRate;
        double polledRate;
        long requests;
        try (HttpClient probe = HttpClient.newHttpClient()) {
            long c0 = completed(probe, totals);
            long t0 = System.nanoTime();
            Thread.sleep(quietMs);
            long c1 = completed(probe, totals);
            long t1 = System.nanoTime();
            quietRate = (c1 - c0) / ((t1 - t0) / 1e9);
            java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    try (HttpClient client = HttpClient.newHttpClient()) {
                        while (!stop.get()) {
                            var response = client.send(HttpRequest.newBuilder(status).build(),
                                    HttpResponse.BodyHandlers.discarding());
                            if (response.statusCode() == 200) {
                                served.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            long until = System.nanoTime() + pollMs * 1_000_000;
            peak = 0;
            while (System.nanoTime() < until) {
                peak = Math.max(peak, p.memoryKb("VmHWM"));
                Thread.sleep(200);
            }
            long c2 = completed(probe, totals);
            long t2 = System.nanoTime();
            stop.set(true);
            for (Thread client : clients) {
                client.join();
            }
            peak = Math.max(peak, p.memoryKb("VmHWM"));
            polledRate = (c2 - c1) / ((t2 - t1) / 1e9);
            requests = served.get();
        } finally {
            p.signal("TERM");
            p.awaitExit(60_000);
        }
        add("B8 " + workers + " workers, 4 clients polling /status?workers=" + workers + " for " + pollMs / 1000
                + " s: peak RSS", "MB", peak / 1024.0, Double.NaN, "<= 256 MB", peak <= 256 * 1024);
        double ideal = workers / (3 * stepMs / 1000.0);
        add("B8 pool rate while polled (vs the " + quietMs / 1000 + " s before)", "% of ideal", 100 * polledRate / ideal,
                100 * quietRate / ideal, ">= 99%", polledRate / ideal >= 0.99);
        add("B8 /status requests served", "requests/s", requests / (pollMs / 1000.0), Double.NaN, "none", null);
    }

    private static long completed(HttpClient client, URI totals) throws Exception {
        String body = client.send(HttpRequest.newBuilder(totals).build(), HttpResponse.BodyHandlers.ofString()).body();
        return new JsonObject(body).getJsonObject("totals").getLong("completed");
    }

    private void b7Resize() throws Exception {
        int to = full ? 10_000 : 100;
        int reps = full ? 3 : 1;
        double[] ours = new double[reps];
        for (int i = 0; i < reps; i++) {
            Path file = config("b7-" + i, 10, 3, 1000);
            BenchProcess p = new BenchProcess(List.of(launcher.toString(), "--config", file.toString()));
            p.await("ready", 30_000);
            Path next = dir.resolve("b7.next");
            Files.writeString(next, Files.readString(file).replace("pool.size = 10\n", "pool.size = " + to + "\n"));
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            p.signal("HUP");
            p.await("pool.resized", 30_000);
            // The daemon's own clock, from taking the signal (reload.begin) to every new worker
            // started (pool.resized): spawning `kill` from this JVM is not the daemon's cost.
            ours[i] = java.time.Duration.between(BenchProcess.timestamp(p.event("reload.begin")),
                    BenchProcess.timestamp(p.event("pool.resized"))).toNanos() / 1e6;
            p.signal("TERM");
            p.awaitExit(30_000);
        }
        add("B7 SIGHUP resize 10 -> " + to + ", all started (reload.begin to pool.resized)", "ms", median(ours), Double.NaN, "<= 200 ms",
                median(ours) <= 200);
    }

    /**
     * C1 (issue 17): 4 daemons x 10 workers on one PostgreSQL, cluster-wide concurrency limit 40,
     * 20 ms sections that record their own intervals: overshoot and slot use from the intervals.
     */
    private void c1ClusterLimit() throws Exception {
        int jobs = Integer.getInteger("c1.jobs", full ? 30_000 : 4_000);
        ClusterLimitBench.Figures f = new ClusterLimitBench(launcher, dir).run(4, 10, 40, 20, jobs);
        add("C1 limit 40 on 4 nodes x 10 workers, 20 ms jobs: most running at once", "sections", f.mostAtOnce(),
                Double.NaN, "<= 40", f.mostAtOnce() <= 40);
        add("C1 slot use over the steady " + String.format(Locale.ROOT, "%.1f", f.windowSeconds()) + " s", "%",
                100 * f.slotUse(), Double.NaN, ">= 90 %", f.slotUse() >= 0.90);
        add("C1 jobs/s over that window (ideal 2,000)", "jobs/s", f.jobsPerSecond(), Double.NaN, "none", null);
    }

    // ---- processes ----

    private BenchProcess daemon(int workers, int steps, long stepMs) throws IOException {
        Path file = config("w" + workers + "-s" + stepMs, workers, steps, stepMs);
        return new BenchProcess(List.of(launcher.toString(), "--config", file.toString()));
    }

    private Path config(String name, int workers, int steps, long stepMs) throws IOException {
        Path file = dir.resolve(name + ".conf");
        Files.writeString(file, String.format(Locale.ROOT, """
                shieldpool.log.format = json
                shieldpool.log.level = info
                shieldpool.admin.port = 0
                shieldpool.pool.size = %d
                shieldpool.work.demo.steps = %d
                shieldpool.work.demo.step-duration = %dms
                shieldpool.work.demo.log-steps = false
                shieldpool.shutdown.grace = 60s
                shieldpool.admin.port = 0
                """, workers, steps, stepMs));
        return file;
    }

    private BenchProcess baseline(int workers, int steps, long stepMs) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new BenchProcess(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                Baseline.class.getName(), Integer.toString(workers), Integer.toString(steps), Long.toString(stepMs)));
    }

    // ---- output ----

    void add(String scenario, String metric, double ours, double baseline, String target, Boolean met) {
        Row row = new Row(scenario, metric, ours, baseline, target, met);
        rows.add(row);
        out.println("bench: " + format(row));
        out.flush();
    }

    private static String number(double value) {
        if (Double.isNaN(value)) {
            return "n/a";
        }
        return value >= 1000 ? String.format(Locale.ROOT, "%,.0f", value) : String.format(Locale.ROOT, "%.1f", value);
    }

    private static String format(Row r) {
        String ratio = Double.isNaN(r.baseline) || r.baseline == 0 ? "" : String.format(Locale.ROOT, "%.2fx", r.shieldpool / r.baseline);
        return "| " + r.scenario + " | " + r.metric + " | " + number(r.shieldpool) + " | " + number(r.baseline) + " | "
                + ratio + " | " + r.target + " | " + (r.met == null ? "" : r.met ? "met" : "NOT met") + " |";
    }

    void print() {
        out.println();
        out.println("## shieldpool benchmark (" + (full ? "full" : "tiny") + " scale), "
                + Runtime.getRuntime().availableProcessors() + " cores, Java " + Runtime.version());
        out.println("| scenario | unit | shieldpool (median) | JDK virtual-thread baseline (median) | ratio | target | |");
        out.println("|---|---|---|---|---|---|---|");
        rows.forEach(r -> out.println(format(r)));
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
