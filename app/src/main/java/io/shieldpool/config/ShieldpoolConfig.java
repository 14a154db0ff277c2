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
 */
public record ShieldpoolConfig(Optional<Path> source, Pool pool, Work work, Backoff backoff,
                               Shutdown shutdown, Log log, Admin admin, Systemd systemd) {

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
    }

    /** @param size workers wanted, >= 0; @param eventLoops threads running them, >= 1 (0 resolved to cores) */
    public record Pool(int size, int eventLoops) {
        public static final Rule<Integer> SIZE = Rule.intAtLeast("shieldpool.pool.size", 0);
        /** As configured: 0 means one per core, resolved before the record is built. */
        public static final Rule<Integer> EVENT_LOOPS = Rule.intAtLeast("shieldpool.pool.event-loops", 0);

        public Pool {
            SIZE.check(size);
            Rule.require(eventLoops >= 1, EVENT_LOOPS.key(), eventLoops, "an integer >= 1 once resolved");
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
    public record Admin(boolean enabled, String host, int port, Optional<String> token) {
        public static final Rule<Integer> PORT = new Rule<>("shieldpool.admin.port", "an integer from 0 to 65535",
                p -> p >= 0 && p <= 65535, 0);

        public Admin {
            Objects.requireNonNull(host);
            Objects.requireNonNull(token);
            PORT.check(port);
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
        public static final Rule<Duration> STALL_AFTER = Rule.durationAtLeast("shieldpool.systemd.stall-after",
                Duration.ofMillis(1), Duration.ofMinutes(5));

        public Systemd {
            STALL_AFTER.check(stallAfter);
        }
    }

    /** Log levels an operator may choose. */
    public enum LogLevel { ERROR, WARN, INFO, DEBUG, TRACE }

    /** Output formats: text for people, json for machines (one flat object per line). */
    public enum LogFormat { TEXT, JSON }
}
