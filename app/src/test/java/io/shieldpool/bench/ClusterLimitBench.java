package io.shieldpool.bench;

import io.shieldpool.e2e.SectionIntervals;
import io.shieldpool.e2e.RecordingPlugin;
import io.shieldpool.jobs.postgresql.PostgresCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * C1 (issue 17): a cluster-wide concurrency limit under load. {@code nodes} packaged daemons of
 * {@code workers} each on one throwaway PostgreSQL 15, {@code jobs.limits.concurrency = limit},
 * jobs whose sections hold their job for {@code duration} ({@link RecordingPlugin}: each section
 * records its own start and end). From the recorded intervals: the most sections running at once
 * (the limit must hold) and slot use over the steady part (every node running, the queue not yet
 * drained): the time integral of running sections / (limit x window).
 */
final class ClusterLimitBench {

    record Figures(long mostAtOnce, double slotUse, double jobsPerSecond, double windowSeconds, int starts) {
    }

    private final Path launcher;
    private final Path dir;

    ClusterLimitBench(Path launcher, Path dir) {
        this.launcher = launcher;
        this.dir = dir;
    }

    Figures run(int nodes, int workers, int limit, long durationMs, int jobs) throws Exception {
        Path run = Files.createDirectories(dir.resolve("c1-" + System.nanoTime()));
        Path plugins = RecordingPlugin.pack(run.resolve("plugins"));
        try (PostgresCluster cluster = PostgresCluster.start()) {
            String database = cluster.createDatabase();
            Path tool = run.resolve("tool.conf");
            Files.writeString(tool, "shieldpool.jobs.store = postgresql\nshieldpool.jobs.postgresql.url = \""
                    + cluster.uri(database) + "\"\n");
            tool(List.of("jobs", "migrate", "--config", tool.toString()), null);
            boolean where = Boolean.getBoolean("c1.where");
            if (where) {
                SlotTimeline.install(cluster, database);
            }
            Path payloads = run.resolve("payloads.jsonl");
            Files.write(payloads, IntStream.range(0, jobs).mapToObj(i -> "{\"n\":" + i + "}").toList());
            tool(List.of("enqueue", "--quiet", "--config", tool.toString(), "-"), payloads);
            List<Path> files = new ArrayList<>();
            List<BenchProcess> daemons = new ArrayList<>();
            try {
                for (int n = 0; n < nodes; n++) {
                    Path file = run.resolve("sections-" + n + ".log");
                    files.add(file);
                    Path conf = run.resolve("node-" + n + ".conf");
                    Files.writeString(conf, String.format(Locale.ROOT, """
                            shieldpool.log.format = json
                            shieldpool.log.level = info
                            shieldpool.admin.port = 0
                            shieldpool.pool.size = %d
                            shieldpool.work.type = test-recording
                            shieldpool.work.plugin-directory = "%s"
                            shieldpool.work.test-recording { file = "%s", node = "n%d", duration = %dms }
                            shieldpool.jobs.store = postgresql
                            shieldpool.jobs.postgresql.url = "%s"
                            shieldpool.jobs.limits.concurrency = %d
                            shieldpool.shutdown.grace = 30s
                            %s
                            """, workers, plugins, file, n, durationMs, cluster.uri(database), limit,
                            // why: a diagnosis may try other settings (-Dc1.extra="shieldpool.jobs.postgresql.pool-size = 10")
                            System.getProperty("c1.extra", "")));
                    daemons.add(new BenchProcess(List.of(launcher.toString(), "--config", conf.toString())));
                }
                for (BenchProcess d : daemons) {
                    d.await("ready", 60_000);
                }
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                // why sampled: whether slots change hands through waits (a node short of slots)
                // or pass from ack to next job on the same node tells where idle slot time comes from
                int samples = 0;
                int samplesWithWaits = 0;
                long runningSum = 0;
                while (true) {
                    String[] sample = cluster.psql(database, "SELECT (SELECT count(*) FROM shieldpool_jobs WHERE state <> 'done')"
                            + " || ' ' || (SELECT count(*) FROM shieldpool_jobs WHERE state = 'running')"
                            + " || ' ' || (SELECT coalesce(sum(wanted), 0) FROM shieldpool_waits"
                            + " WHERE looked_at >= now() - interval '1 second')").split(" ");
                    if (sample[0].equals("0")) {
                        break;
                    }
                    samples++;
                    runningSum += Long.parseLong(sample[1]);
                    samplesWithWaits += Long.parseLong(sample[2]) > 0 ? 1 : 0;
                    if (System.nanoTime() > deadline) {
                        // why not a failure: the figures come from what the sections recorded; a slow machine gets a shorter run
                        System.out.println("C1: jobs not all done within 3 minutes; figures from the sections recorded so far");
                        break;
                    }
                    Thread.sleep(200);
                }
                System.out.printf(Locale.ROOT, "C1: %d samples of the database: running rows (claimed: in sections or in the"
                        + " nodes' buffers) %.1f on average,"
                        + " a node waiting for a slot in %.0f %% of them%n", samples, samples == 0 ? 0.0 : (double) runningSum / samples,
                        samples == 0 ? 0.0 : 100.0 * samplesWithWaits / samples);
            } finally {
                for (BenchProcess d : daemons) {
                    d.signal("TERM");
                }
                for (BenchProcess d : daemons) {
                    d.awaitExit(60_000);
                }
            }
            SectionIntervals intervals = SectionIntervals.read(files);
            long[] window = intervals.steadyWindow(TimeUnit.MILLISECONDS.toNanos(500));
            double seconds = (window[1] - window[0]) / 1e9;
            if (where) {
                SlotTimeline.report(cluster, database, run, intervals, limit, window[0], window[1]);
            }
            long startsInWindow = intervals.all().stream().filter(i -> i.start() >= window[0] && i.start() < window[1]).count();
            return new Figures(intervals.mostAtOnce(Long.MAX_VALUE), intervals.slotUse(limit, window[0], window[1]),
                    startsInWindow / seconds, seconds, intervals.starts());
        }
    }

    private void tool(List<String> args, Path input) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        if (input != null) {
            builder.redirectInput(input.toFile());
        }
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": exit " + process.exitValue() + ": " + out);
        }
    }
}
