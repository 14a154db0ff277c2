package io.shieldpool.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
        public Pool {
            if (size < 0 || eventLoops < 1) {
                throw new IllegalArgumentException("pool size " + size + ", event loops " + eventLoops);
            }
        }
    }

    /** Work kinds built into the daemon; any other {@code work.type} names a plug-in. */
    public static final Set<String> BUILT_IN_WORK_TYPES = Set.of("demo", "exec", "http");

    /**
     * What a section does.
     *
     * @param type            the work kind's name: a built-in kind or a plug-in's type
     * @param timeout         time limit of one section; zero means none
     * @param pluginDirectory where plug-in jars are looked for besides the classpath, if anywhere
     * @param demo            the demo kind's settings (always present, used when type is demo)
     * @param exec            the exec kind's settings (always present, used when type is exec)
     * @param http            the http kind's settings (always present, used when type is http)
     * @param settings        the subtree {@code shieldpool.work.<type>} as written (a plug-in's own
     *                        settings; empty when absent)
     */
    public record Work(String type, Duration timeout, Optional<Path> pluginDirectory, Demo demo, Exec exec,
                       Http http, com.typesafe.config.Config settings) {
        public Work {
            Objects.requireNonNull(type);
            Objects.requireNonNull(pluginDirectory);
            Objects.requireNonNull(demo);
            Objects.requireNonNull(exec);
            Objects.requireNonNull(http);
            Objects.requireNonNull(settings);
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("work timeout " + timeout);
            }
        }

        /** Whether sections have a time limit. */
        public boolean hasTimeout() {
            return !timeout.isZero();
        }

        /** This work with another kind's settings, everything else kept (a reload keeps the running type). */
        public Work withType(String keptType, Optional<Path> keptPluginDirectory) {
            return new Work(keptType, timeout, keptPluginDirectory, demo, exec, http, settings);
        }
    }

    /**
     * The exec kind: one command per section.
     *
     * @param command     the argv, first element the program; empty only when exec is not used
     * @param environment extra environment variables
     * @param directory   working directory, if not the daemon's
     * @param killAfter   pause between SIGTERM and SIGKILL to a command's process group
     */
    public record Exec(List<String> command, Map<String, String> environment, Optional<Path> directory,
                       Duration killAfter) {
        public Exec {
            command = List.copyOf(command);
            environment = Map.copyOf(environment);
            Objects.requireNonNull(directory);
            if (killAfter.isNegative()) {
                throw new IllegalArgumentException("kill-after " + killAfter);
            }
        }
    }

    /**
     * The http kind: one request per section.
     *
     * @param method          request method, upper case
     * @param url             absolute http(s) URL; empty only when http is not used
     * @param headers         extra request headers
     * @param body            request body; empty sends none
     * @param timeout         time limit of one request, > 0
     * @param successStatuses statuses that complete a section
     * @param maxRate         most requests per second across the pool; 0 means no limit
     */
    public record Http(String method, Optional<java.net.URI> url, Map<String, String> headers, String body,
                       Duration timeout, StatusSet successStatuses, double maxRate) {
        public Http {
            Objects.requireNonNull(method);
            Objects.requireNonNull(url);
            headers = Map.copyOf(headers);
            Objects.requireNonNull(body);
            Objects.requireNonNull(successStatuses);
            if (timeout.isNegative() || timeout.isZero() || !(maxRate >= 0)) {
                throw new IllegalArgumentException("http " + timeout + " " + maxRate);
            }
        }

        @Override
        public String toString() {
            // why: headers often carry credentials; a record's toString would print them.
            return "Http[method=" + method + ", url=" + url.map(Object::toString).orElse("") + ", headers="
                    + headers.keySet() + ", timeout=" + timeout + ", successStatuses=" + successStatuses
                    + ", maxRate=" + maxRate + "]";
        }
    }

    /**
     * HTTP statuses, as single codes and whole classes ({@code 2xx}).
     *
     * @param codes   single statuses
     * @param classes hundreds digits of whole classes (2 for 2xx)
     */
    public record StatusSet(Set<Integer> codes, Set<Integer> classes) {
        public StatusSet {
            codes = Set.copyOf(codes);
            classes = Set.copyOf(classes);
        }

        /** Whether {@code status} is in the set. */
        public boolean contains(int status) {
            return codes.contains(status) || classes.contains(status / 100);
        }

        @Override
        public String toString() {
            List<String> parts = new java.util.ArrayList<>();
            classes.stream().sorted().forEach(c -> parts.add(c + "xx"));
            codes.stream().sorted().forEach(c -> parts.add(Integer.toString(c)));
            return String.join(",", parts);
        }
    }

    /**
     * The embedded demo work: the seed's protected_work.
     *
     * @param steps              steps per section, >= 1
     * @param stepDuration       time one step takes; zero makes a step a bare yield
     * @param failureProbability chance a section fails at its last step, 0..1
     * @param logSteps           log each step's progress at INFO
     * @param stallInSection     testing aid: the section with this id hangs in its first step (0: none)
     */
    public record Demo(int steps, Duration stepDuration, double failureProbability, boolean logSteps,
                       long stallInSection) {
        public Demo {
            if (steps < 1 || stepDuration.isNegative() || !(failureProbability >= 0 && failureProbability <= 1)
                    || stallInSection < 0) {
                throw new IllegalArgumentException("demo " + steps + " " + stepDuration + " " + failureProbability);
            }
        }

        /** The longest a section should take when nothing is wrong. */
        public Duration expectedSection() {
            return stepDuration.multipliedBy(steps);
        }
    }

    /** @param initial pause after the first failure, > 0; @param max cap on the doubling, >= initial */
    public record Backoff(Duration initial, Duration max) {
        public Backoff {
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff " + initial + " " + max);
            }
        }
    }

    /** @param grace hard cap on the drain; sections still running then are abandoned */
    public record Shutdown(Duration grace) {
        public Shutdown {
            if (grace.isNegative()) {
                throw new IllegalArgumentException("grace " + grace);
            }
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
    public record Admin(boolean enabled, String host, int port, Optional<String> token) {
        public Admin {
            Objects.requireNonNull(host);
            Objects.requireNonNull(token);
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("admin port " + port);
            }
        }

        @Override
        public String toString() {
            // why: a record's toString would print the token; it must never reach a log.
            return "Admin[enabled=" + enabled + ", host=" + host + ", port=" + port + ", token=" + masked(token) + "]";
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
        public Systemd {
            if (stallAfter.isNegative() || stallAfter.isZero()) {
                throw new IllegalArgumentException("stall-after " + stallAfter);
            }
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
     * @param claimBatch      most jobs one claim takes into a shard's local buffer, >= 1
     * @param retentionDone   how long done jobs are kept before they are deleted
     * @param postgresql      the PostgreSQL store's settings (used when store is postgresql)
     */
    public record Jobs(JobStoreType store, Path sqlitePath, boolean sqliteFullSync, String queue, int maxAttempts,
                       Duration retryBackoff, Duration retryMaxBackoff, double retryJitter, Duration pollInterval,
                       int claimBatch, Duration retentionDone, Postgresql postgresql) {
        public Jobs {
            Objects.requireNonNull(postgresql);
            Objects.requireNonNull(store);
            Objects.requireNonNull(sqlitePath);
            Objects.requireNonNull(queue);
            if (maxAttempts < 1 || claimBatch < 1 || !(retryJitter >= 0 && retryJitter <= 1)
                    || retryMaxBackoff.compareTo(retryBackoff) < 0 || pollInterval.isZero() || pollInterval.isNegative()
                    || retentionDone.isNegative()) {
                throw new IllegalArgumentException("jobs " + maxAttempts + " " + claimBatch + " " + retryJitter);
            }
        }

        /** Without PostgreSQL settings (the defaults): for a store other than postgresql. */
        public Jobs(JobStoreType store, Path sqlitePath, boolean sqliteFullSync, String queue, int maxAttempts,
                    Duration retryBackoff, Duration retryMaxBackoff, double retryJitter, Duration pollInterval,
                    int claimBatch, Duration retentionDone) {
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
     */
    public record Postgresql(String url, Optional<Path> passwordFile, int poolSize, Duration heartbeatInterval,
                             Duration nodeTtl, Duration jobLease, int limitConcurrency, double limitRate, double limitBurst) {
        public static final Postgresql DEFAULTS = new Postgresql("", Optional.empty(), 4, Duration.ofSeconds(2),
                Duration.ofSeconds(10), Duration.ofMinutes(15), 0, 0, 0);

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
