package io.shieldpool.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The whole validated configuration, immutable. A reload builds a new one and swaps it whole.
 *
 * @param source   the file it was read from, if any (reloads read the same file again)
 * @param pool     how many workers and on how many event loops
 * @param work     what a section does
 * @param backoff  pauses after failed sections
 * @param shutdown the drain's hard cap
 * @param log      level and format of the daemon's output
 * @param admin    the admin HTTP server
 * @param systemd  how the daemon reports to systemd (watchdog, stop-timeout extensions)
 * @param jobs     durable jobs: where they are stored, if anywhere, and how they are retried
 */
public record ShieldpoolConfig(Optional<Path> source, Pool pool, Work work, Backoff backoff,
                               Shutdown shutdown, Log log, Admin admin, Systemd systemd, Jobs jobs) {

    /** Keys whose values are secrets: printed masked wherever a configuration is shown. */
    public static final Set<String> SECRET_KEYS = Set.of("shieldpool.admin.token");

    /** How a secret is shown: whether it is set, never what it is. */
    public static String masked(Optional<String> secret) {
        return secret.isPresent() ? "(set, hidden)" : "(none)";
    }

    public ShieldpoolConfig {
        Objects.requireNonNull(source);
        Objects.requireNonNull(pool);
        Objects.requireNonNull(work);
        Objects.requireNonNull(backoff);
        Objects.requireNonNull(shutdown);
        Objects.requireNonNull(log);
        Objects.requireNonNull(admin);
        Objects.requireNonNull(systemd);
        Objects.requireNonNull(jobs);
    }

    /** @param size workers wanted, >= 0; @param eventLoops threads running them, >= 1 (0 resolved to cores) */
    public record Pool(int size, int eventLoops) {
        /**
         * Most workers: twice the million-worker benchmark (B4, ~190 MB resident for 10^6), so the
         * largest pool fits a few hundred MB of heap; beyond it a typo (2147483647) would ask for
         * hundreds of GB and end the daemon with an OutOfMemoryError.
         */
        public static final int MAX_SIZE = 2_000_000;
        /** Event loops per CPU core at most: more threads than that only add context switches. */
        public static final int MAX_EVENT_LOOPS_PER_CORE = 8;
        public static final Rule<Integer> SIZE = Rule.intBetween("shieldpool.pool.size", 0, MAX_SIZE);
        /** As configured: 0 means one per core, resolved before the record is built. */
        public static final Rule<Integer> EVENT_LOOPS = eventLoopsRule(Runtime.getRuntime().availableProcessors());

        static Rule<Integer> eventLoopsRule(int cores) {
            return Rule.intBetween("shieldpool.pool.event-loops", 0, MAX_EVENT_LOOPS_PER_CORE * cores,
                    " (" + MAX_EVENT_LOOPS_PER_CORE + " per CPU core, " + cores + " core(s) here; 0 means one per core)");
        }

        public Pool {
            SIZE.check(size);
            Rule.require(eventLoops >= 1 && EVENT_LOOPS.accepts().test(eventLoops), EVENT_LOOPS.key(), eventLoops,
                    EVENT_LOOPS.expected() + ", >= 1 once resolved");
        }
    }

    /**
     * What a section does.
     *
     * @param type            the work kind's name: a built-in kind or a plug-in's type
     * @param timeout         time limit of one section; zero means none
     * @param pluginDirectory where plug-in jars are looked for besides the classpath, if anywhere
     * @param kinds           the settings of every kind that was read, by kind name: each built-in
     *                        kind's (all are checked, whichever runs) and a plug-in's when it is the type
     */
    public record Work(String type, Duration timeout, Optional<Path> pluginDirectory, Map<String, KindSettings> kinds) {
        public static final Rule<Duration> TIMEOUT = Rule.durationAtLeast("shieldpool.work.timeout", Duration.ZERO, Duration.ZERO);

        public Work {
            Objects.requireNonNull(type);
            Objects.requireNonNull(pluginDirectory);
            kinds = Map.copyOf(kinds);
            TIMEOUT.check(timeout);
        }

        /** Whether sections have a time limit. */
        public boolean hasTimeout() {
            return !timeout.isZero();
        }

        /** The running kind's settings. */
        public KindSettings settings() {
            KindSettings settings = kinds.get(type);
            if (settings == null) {
                throw new IllegalStateException("no settings were read for work.type " + type);
            }
            return settings;
        }

        /** The settings of the kind whose settings are of {@code kind}'s class, if they were read. */
        public <T extends KindSettings> Optional<T> settings(Class<T> kind) {
            return kinds.values().stream().filter(kind::isInstance).map(kind::cast).findFirst();
        }

        /** This work with another kind running, everything else kept (a reload keeps the running type). */
        public Work withType(String keptType, Optional<Path> keptPluginDirectory, Map<String, KindSettings> keptKinds) {
            Map<String, KindSettings> merged = new java.util.HashMap<>(keptKinds);
            merged.putAll(kinds);
            return new Work(keptType, timeout, keptPluginDirectory, merged);
        }
    }

    /** @param initial pause after the first failure, > 0; @param max cap on the doubling, >= initial */
    public record Backoff(Duration initial, Duration max) {
        public static final Rule<Duration> INITIAL = Rule.durationAtLeast("shieldpool.worker.backoff.initial",
                Duration.ofMillis(1), Duration.ofMillis(100));
        public static final Rule<Duration> MAX = Rule.durationAtLeast("shieldpool.worker.backoff.max",
                Duration.ofMillis(1), Duration.ofSeconds(30));

        public Backoff {
            INITIAL.check(initial);
            MAX.check(max);
            Rule.require(max.compareTo(initial) >= 0, MAX.key(), Durations.format(max),
                    "a duration >= worker.backoff.initial (" + Durations.format(initial) + ")");
        }
    }

    /** @param grace hard cap on the drain; sections still running then are abandoned */
    public record Shutdown(Duration grace) {
        public static final Rule<Duration> GRACE = Rule.durationAtLeast("shieldpool.shutdown.grace", Duration.ZERO, Duration.ZERO);

        public Shutdown {
            GRACE.check(grace);
        }
    }

    /** @param level shieldpool's own log level; @param format text or json */
    public record Log(LogLevel level, LogFormat format) {
        public Log {
            Objects.requireNonNull(level);
            Objects.requireNonNull(format);
        }
    }

    /**
     * The admin HTTP server.
     *
     * @param enabled serve the endpoints at all
     * @param host    address to bind
     * @param port    TCP port, 0..65535; 0 takes any free port
     * @param token   bearer token required on everything but /healthz and /readyz; empty: none
     *                (only allowed on a loopback host)
     */
    public record Admin(boolean enabled, String host, int port, Optional<String> token, Duration idleTimeout,
                        Duration requestHeaderTimeout, int maxConnections) {
        public static final Rule<Integer> PORT = new Rule<>("shieldpool.admin.port", "an integer from 0 to 65535",
                p -> p >= 0 && p <= 65535, 0);
        /** reference.conf's defaults of the connection limits. */
        public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
        public static final Duration DEFAULT_REQUEST_HEADER_TIMEOUT = Duration.ofSeconds(10);
        public static final int DEFAULT_MAX_CONNECTIONS = 128;
        public static final Rule<Duration> IDLE_TIMEOUT = Rule.durationAtLeast("shieldpool.admin.idle-timeout",
                Duration.ofMillis(1), DEFAULT_IDLE_TIMEOUT);
        public static final Rule<Duration> REQUEST_HEADER_TIMEOUT = Rule.durationAtLeast(
                "shieldpool.admin.request-header-timeout", Duration.ofMillis(1), DEFAULT_REQUEST_HEADER_TIMEOUT);
        public static final Rule<Integer> MAX_CONNECTIONS = new Rule<>("shieldpool.admin.max-connections",
                "an integer from 1 to 65536", n -> n >= 1 && n <= 65536, DEFAULT_MAX_CONNECTIONS);

        public Admin {
            Objects.requireNonNull(host);
            Objects.requireNonNull(token);
            PORT.check(port);
            IDLE_TIMEOUT.check(idleTimeout);
            REQUEST_HEADER_TIMEOUT.check(requestHeaderTimeout);
            MAX_CONNECTIONS.check(maxConnections);
        }

        /** With the default connection limits. */
        public Admin(boolean enabled, String host, int port, Optional<String> token) {
            this(enabled, host, port, token, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS);
        }

        @Override
        public String toString() {
            // why: a record's toString would print the token; it must never reach a log.
            return "Admin[enabled=" + enabled + ", host=" + host + ", port=" + port + ", token=" + masked(token)
                    + ", idleTimeout=" + idleTimeout + ", requestHeaderTimeout=" + requestHeaderTimeout
                    + ", maxConnections=" + maxConnections + "]";
        }
    }

    /**
     * What the daemon tells systemd, beyond the fixed protocol.
     *
     * @param stallAfter a busy worker that has gone this long without progress (its section began,
     *                   or a step ended) counts as stalled: the watchdog pings stop and a drain's stop
     *                   timeout is no longer extended for it; > 0
     */
    public record Systemd(Duration stallAfter) {
        public static final Rule<Duration> STALL_AFTER = Rule.durationAtLeast("shieldpool.systemd.stall-after",
                Duration.ofMillis(1), Duration.ofMinutes(5));

        public Systemd {
            STALL_AFTER.check(stallAfter);
        }
    }

    /** Where durable jobs are stored: none (sections loop without jobs, as before jobs existed) or a store. */
    public enum JobStoreType { NONE, SQLITE, POSTGRESQL }

    /**
     * Durable jobs (see the README's "Durable jobs").
     *
     * @param store           none, or the store sections take their jobs from
     * @param sqlitePath      the SQLite file
     * @param sqliteFullSync  synchronous=FULL (true) or NORMAL
     * @param queue           the queue this daemon's workers take jobs from, and the default of enqueue
     * @param maxAttempts     attempts a job enqueued without its own limit gets, >= 1
     * @param retryBackoff    wait before the second attempt; doubles per further attempt
     * @param retryMaxBackoff longest wait between attempts
     * @param retryJitter     fraction 0..1 by which each wait is randomly shortened or lengthened
     * @param pollInterval    how often idle workers look for jobs that came due (an enqueue wakes them at once)
     * @param claimBatch      how many jobs a claim takes into a shard's local buffer: auto, or at most N
     * @param retentionDone   how long done jobs are kept before they are deleted
     * @param postgresql      the PostgreSQL store's settings (used when store is postgresql)
     */
    public record Jobs(JobStoreType store, Path sqlitePath, boolean sqliteFullSync, String queue, int maxAttempts,
                       Duration retryBackoff, Duration retryMaxBackoff, double retryJitter, Duration pollInterval,
                       ClaimBatch claimBatch, Duration retentionDone, Postgresql postgresql) {
        public static final Rule<Integer> MAX_ATTEMPTS = Rule.intAtLeast("shieldpool.jobs.max-attempts", 1);
        public static final Rule<Duration> RETRY_BACKOFF = Rule.durationAtLeast("shieldpool.jobs.retry.backoff",
                Duration.ofMillis(1), Duration.ofSeconds(1));
        public static final Rule<Duration> RETRY_MAX_BACKOFF = Rule.durationAtLeast("shieldpool.jobs.retry.max-backoff",
                Duration.ofMillis(1), Duration.ofHours(1));
        public static final Rule<Double> RETRY_JITTER = new Rule<>("shieldpool.jobs.retry.jitter",
                "a number from 0.0 to 1.0", v -> v >= 0 && v <= 1, 0.2);
        public static final Rule<Duration> POLL_INTERVAL = Rule.durationAtLeast("shieldpool.jobs.poll-interval",
                Duration.ofMillis(1), Duration.ofSeconds(1));
        public static final Rule<Integer> CLAIM_BATCH = new Rule<>("shieldpool.jobs.claim-batch",
                "auto, or an integer >= 1", v -> v >= 1, 1);
        public static final Rule<Duration> RETENTION_DONE = Rule.durationAtLeast("shieldpool.jobs.retention.done",
                Duration.ZERO, Duration.ofHours(24));

        public Jobs {
            Objects.requireNonNull(postgresql);
            Objects.requireNonNull(store);
            Objects.requireNonNull(sqlitePath);
            Objects.requireNonNull(queue);
            MAX_ATTEMPTS.check(maxAttempts);
            RETRY_BACKOFF.check(retryBackoff);
            RETRY_MAX_BACKOFF.check(retryMaxBackoff);
            RETRY_JITTER.check(retryJitter);
            POLL_INTERVAL.check(pollInterval);
            Objects.requireNonNull(claimBatch);
            RETENTION_DONE.check(retentionDone);
            Rule.require(!queue.isBlank(), "shieldpool.jobs.queue", queue, "a non-empty queue name");
            Rule.require(retryMaxBackoff.compareTo(retryBackoff) >= 0, RETRY_MAX_BACKOFF.key(),
                    Durations.format(retryMaxBackoff), "a duration >= jobs.retry.backoff (" + Durations.format(retryBackoff) + ")");
        }

        /** Without PostgreSQL settings (the defaults): for a store other than postgresql. */
        public Jobs(JobStoreType store, Path sqlitePath, boolean sqliteFullSync, String queue, int maxAttempts,
                    Duration retryBackoff, Duration retryMaxBackoff, double retryJitter, Duration pollInterval,
                    ClaimBatch claimBatch, Duration retentionDone) {
            this(store, sqlitePath, sqliteFullSync, queue, maxAttempts, retryBackoff, retryMaxBackoff, retryJitter,
                    pollInterval, claimBatch, retentionDone, Postgresql.DEFAULTS);
        }

        public boolean enabled() {
            return store != JobStoreType.NONE;
        }

        /** These settings with the ones a reload may change taken from {@code fresh}; the store and its queue stay. */
        public Jobs withLiveKeysOf(Jobs fresh) {
            return new Jobs(store, sqlitePath, sqliteFullSync, queue, fresh.maxAttempts, fresh.retryBackoff,
                    fresh.retryMaxBackoff, fresh.retryJitter, fresh.pollInterval, claimBatch, fresh.retentionDone, postgresql);
        }
    }

    /**
     * {@code jobs.claim-batch}: how many jobs one claim takes into a shard's buffer.
     *
     * @param fixed at most this many (>= 1), or 0 for {@link #AUTO}
     */
    public record ClaimBatch(int fixed) {
        /**
         * The default: on a shared store (PostgreSQL) the buffer follows the shard's demand, the
         * jobs its workers take per second times a claim's round trip, so short sections get big
         * claims and long sections a small buffer; on a private store (SQLite) a fixed 32.
         */
        public static final ClaimBatch AUTO = new ClaimBatch(0);

        public ClaimBatch {
            if (fixed != 0) {
                Jobs.CLAIM_BATCH.check(fixed);
            }
        }

        /** At most {@code jobs} per claim. */
        public static ClaimBatch of(int jobs) {
            return new ClaimBatch(Jobs.CLAIM_BATCH.check(jobs));
        }

        public boolean auto() {
            return fixed == 0;
        }

        @Override
        public String toString() {
            return auto() ? "auto" : Integer.toString(fixed);
        }
    }

    /**
     * The PostgreSQL store (jobs.store = postgresql; see the README's "Scale-out"). Restart-only.
     *
     * @param url               libpq-style URI; "" when unset (then the store cannot be postgresql)
     * @param passwordFile      a file whose first line is the password, if any
     * @param poolSize          connections the daemon opens at most, >= 1
     * @param heartbeatInterval how often the node heartbeats and looks for dead nodes' jobs
     * @param nodeTtl           a node silent this long is dead, > heartbeatInterval
     * @param jobLease          a running attempt older than this is rescued even on a live node
     * @param limitConcurrency  jobs.limits.concurrency: most jobs of the queue running across the cluster, 0 none
     * @param limitRate         jobs.limits.rate: most section starts per second across the cluster, 0 none
     * @param limitBurst        jobs.limits.burst: starts allowed at once after a quiet spell
     * @param statementCache    jobs.postgresql.statement-cache: each connection keeps its statements prepared
     * @param behindPgbouncer   jobs.postgresql.behind-pgbouncer: the URL names PgBouncer in transaction mode
     */
    public record Postgresql(String url, Optional<Path> passwordFile, int poolSize, Duration heartbeatInterval,
                             Duration nodeTtl, Duration jobLease, int limitConcurrency, double limitRate, double limitBurst,
                             boolean statementCache, boolean behindPgbouncer) {
        public static final Postgresql DEFAULTS = new Postgresql("", Optional.empty(), 4, Duration.ofSeconds(2),
                Duration.ofSeconds(10), Duration.ofMinutes(15), 0, 0, 0, false, false);

        public Postgresql {
            Objects.requireNonNull(url);
            Objects.requireNonNull(passwordFile);
        }
    }

    /** Log levels an operator may choose. */
    public enum LogLevel { ERROR, WARN, INFO, DEBUG, TRACE }

    /** Output formats: text for people, json for machines (one flat object per line). */
    public enum LogFormat { TEXT, JSON }
}
