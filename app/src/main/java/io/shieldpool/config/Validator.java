package io.shieldpool.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a merged {@link Config} into a {@link ShieldpoolConfig}, or the list of everything wrong
 * with it. The rules are the records' own ({@link Rule} constants and their compact constructors);
 * each work kind reads its own subtree through {@link WorkTypes}. Start-up, reload and check-config
 * all validate through here.
 */
final class Validator {

    private final Config config;
    private final ConfigReader read;
    private final WorkTypes workTypes;

    private Validator(Config config, WorkTypes workTypes) {
        this.config = config;
        this.read = new ConfigReader(config);
        this.workTypes = workTypes;
    }

    static ShieldpoolConfig validate(Optional<Path> source, Config merged, WorkTypes workTypes)
            throws InvalidConfigException {
        Validator v = new Validator(merged, workTypes);
        ConfigReader read = v.read;
        String type = v.workType();
        v.rejectUnknownKeys(type);
        var pool = new ShieldpoolConfig.Pool(read.integer(ShieldpoolConfig.Pool.SIZE),
                resolveEventLoops(read.integer(ShieldpoolConfig.Pool.EVENT_LOOPS)));
        Duration timeout = read.duration(ShieldpoolConfig.Work.TIMEOUT);
        Optional<Path> pluginDirectory = read.optionalDirectory(full("work.plugin-directory"), true);
        var work = new ShieldpoolConfig.Work(type, timeout, pluginDirectory, workTypes.read(type, read));
        Duration initial = read.duration(ShieldpoolConfig.Backoff.INITIAL);
        Duration max = read.duration(ShieldpoolConfig.Backoff.MAX);
        var backoff = read.build(() -> new ShieldpoolConfig.Backoff(initial, max),
                () -> new ShieldpoolConfig.Backoff(initial, initial));
        var shutdown = new ShieldpoolConfig.Shutdown(read.duration(ShieldpoolConfig.Shutdown.GRACE));
        var log = new ShieldpoolConfig.Log(
                ShieldpoolConfig.LogLevel.valueOf(read.oneOf(full("log.level"),
                        Set.of("error", "warn", "info", "debug", "trace"), "info").toUpperCase(Locale.ROOT)),
                ShieldpoolConfig.LogFormat.valueOf(read.oneOf(full("log.format"),
                        Set.of("text", "json"), "text").toUpperCase(Locale.ROOT)));
        var admin = v.admin();
        var systemd = new ShieldpoolConfig.Systemd(read.duration(ShieldpoolConfig.Systemd.STALL_AFTER));
        var jobs = v.jobs(timeout);
        if (!read.problems().isEmpty()) {
            throw new InvalidConfigException(read.problems());
        }
        return new ShieldpoolConfig(source, pool, work, backoff, shutdown, log, admin, systemd, jobs);
    }

    // ---- jobs: the durable job store ----

    /** Where shieldpool.jobs.sqlite.path = "" puts the file: systemd's StateDirectory=, else /var/lib/shieldpool. */
    static Path defaultJobsPath() {
        String state = System.getenv("STATE_DIRECTORY");
        Path dir = state == null || state.isBlank() ? Path.of("/var/lib/shieldpool") : Path.of(state.split(":")[0]);
        return dir.resolve("jobs.db");
    }

    private ShieldpoolConfig.Jobs jobs(Duration workTimeout) {
        var store = ShieldpoolConfig.JobStoreType.valueOf(read.oneOf(full("jobs.store"), Set.of("none", "sqlite", "postgresql"), "none")
                .toUpperCase(Locale.ROOT));
        String pathText = read.string(full("jobs.sqlite.path")).trim();
        Path path = defaultJobsPath();
        if (!pathText.isEmpty()) {
            try {
                path = Path.of(pathText);
            } catch (java.nio.file.InvalidPathException e) {
                read.problem(full("jobs.sqlite.path"), "a file path, or \"\" for " + defaultJobsPath());
            }
        }
        if (store == ShieldpoolConfig.JobStoreType.SQLITE) {
            Path dir = path.toAbsolutePath().getParent();
            if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
                read.problem(full("jobs.sqlite.path"), "a file in an existing directory (" + dir + " does not exist)"
                        + (pathText.isEmpty() ? "; \"\" means " + path : ""));
            }
        }
        boolean fullSync = read.oneOf(full("jobs.sqlite.synchronous"), Set.of("full", "normal"), "full").equals("full");
        String queue = read.string(full("jobs.queue")).trim();
        if (queue.isEmpty()) {
            read.problem(full("jobs.queue"), "a non-empty queue name");
            queue = "default";
        }
        int maxAttempts = read.integer(ShieldpoolConfig.Jobs.MAX_ATTEMPTS);
        Duration backoff = read.duration(ShieldpoolConfig.Jobs.RETRY_BACKOFF);
        Duration maxBackoff = read.duration(ShieldpoolConfig.Jobs.RETRY_MAX_BACKOFF);
        double jitter = read.number(ShieldpoolConfig.Jobs.RETRY_JITTER);
        Duration poll = read.duration(ShieldpoolConfig.Jobs.POLL_INTERVAL);
        ShieldpoolConfig.ClaimBatch claimBatch = read.integerOrWord(ShieldpoolConfig.Jobs.CLAIM_BATCH, "auto").stream()
                .mapToObj(ShieldpoolConfig.ClaimBatch::of).findFirst().orElse(ShieldpoolConfig.ClaimBatch.AUTO);
        Duration retention = read.duration(ShieldpoolConfig.Jobs.RETENTION_DONE);
        String q = queue;
        Path file = path;
        ShieldpoolConfig.Postgresql postgresql = postgresql(store == ShieldpoolConfig.JobStoreType.POSTGRESQL, workTimeout);
        return read.build(() -> new ShieldpoolConfig.Jobs(store, file, fullSync, q, maxAttempts, backoff, maxBackoff,
                        jitter, poll, claimBatch, retention, postgresql),
                () -> new ShieldpoolConfig.Jobs(store, file, fullSync, q, maxAttempts, backoff, backoff, jitter, poll,
                        claimBatch, retention, postgresql));
    }

    /**
     * What is wrong with the URL's TLS parameters, if anything: verify-ca and verify-full need the
     * CAs to check the server's certificate against (libpq would look in ~/.postgresql/root.crt,
     * which a daemon's user seldom has: named here instead), and an sslrootcert must be readable;
     * sslpassword needs the sslkey it decrypts, sslcrl a readable file and a certificate check to apply to.
     */
    private static Optional<String> tlsProblem(String url) {
        String mode = PostgresUrl.sslMode(url);
        Optional<String> roots = PostgresUrl.sslRootCert(url);
        String named = "sslrootcert=/path/to/ca.pem (the CA certificates, PEM, that signed the server's) or sslrootcert="
                + PostgresUrl.SYSTEM_ROOTS + " (the JDK's trusted CAs)";
        if ((mode.equals("verify-ca") || mode.equals("verify-full")) && roots.isEmpty()) {
            return Optional.of("a libpq URI whose sslmode=" + mode + " comes with " + named);
        }
        if (roots.isPresent() && !roots.get().equals(PostgresUrl.SYSTEM_ROOTS) && !readableFile(roots.get())) {
            return Optional.of("a libpq URI whose sslrootcert is a readable file (" + roots.get() + " is not); " + named);
        }
        Optional<String> cert = PostgresUrl.sslCert(url);
        Optional<String> key = PostgresUrl.sslKey(url);
        if (cert.isPresent() != key.isPresent()) {
            return Optional.of("a libpq URI with both sslcert and sslkey (the client certificate and its key, PEM) or neither");
        }
        if (cert.isPresent() && mode.equals("disable")) {
            return Optional.of("a libpq URI whose sslcert comes with an sslmode that uses TLS (require, verify-ca or verify-full)");
        }
        for (String file : cert.isPresent() ? List.of(cert.get(), key.get()) : List.<String>of()) {
            if (!readableFile(file)) {
                return Optional.of("a libpq URI whose sslcert and sslkey are readable files (" + file + " is not)");
            }
        }
        if (PostgresUrl.sslPassword(url).isPresent() && key.isEmpty()) {
            return Optional.of("a libpq URI whose sslpassword comes with the sslkey it decrypts (and its sslcert)");
        }
        Optional<String> crl = PostgresUrl.sslCrl(url);
        if (crl.isPresent() && (roots.isEmpty() || mode.equals("disable"))) {
            // why not ignored, as libpq does: a revocation list that is never read would look like a check made
            return Optional.of("a libpq URI whose sslcrl comes with sslrootcert and an sslmode that uses TLS (the revocation"
                    + " list is checked only where the server's certificate is: verify-ca, verify-full, or require with"
                    + " sslrootcert)");
        }
        if (crl.isPresent() && !readableFile(crl.get())) {
            return Optional.of("a libpq URI whose sslcrl is a readable file (" + crl.get() + " is not; a certificate"
                    + " revocation list, PEM or DER)");
        }
        return Optional.empty();
    }

    /**
     * What is wrong with a file {@link #readableFile} refused. why: "expected: a readable file" alone
     * left the operator to guess between a typo in the path, a directory and the daemon's user
     * lacking the right to read it (a file made 0600 by root for a daemon run as shieldpool).
     */
    private static String whyUnreadable(Path file) {
        if (!java.nio.file.Files.exists(file)) {
            // why the second look: Files.exists is false too for a file in a directory this user may
            // not enter (a password file in a root-only directory), which is no typo in the path
            return deniedOnTheWay(file) ? "permission denied: a directory on its path may not be entered (this process"
                    + " runs as " + System.getProperty("user.name") + ")" : "there is no such file";
        }
        if (!java.nio.file.Files.isRegularFile(file)) {
            return java.nio.file.Files.isDirectory(file) ? "it is a directory" : "it is not a regular file";
        }
        return "permission denied (" + FileAccess.ownerAndMode(file) + "; this process runs as " + System.getProperty("user.name") + ")";
    }

    /** Whether looking {@code file} up was refused (EACCES), rather than finding nothing there. */
    private static boolean deniedOnTheWay(Path file) {
        try {
            java.nio.file.Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            return false;
        } catch (java.nio.file.AccessDeniedException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean readableFile(String name) {
        try {
            Path file = Path.of(name);
            return java.nio.file.Files.isRegularFile(file) && java.nio.file.Files.isReadable(file);
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    private ShieldpoolConfig.Postgresql postgresql(boolean used, Duration workTimeout) {
        var defaults = ShieldpoolConfig.Postgresql.DEFAULTS;
        String urlKey = full("jobs.postgresql.url");
        String url = read.string(urlKey).trim();
        if (used && !(url.startsWith("postgresql://") || url.startsWith("postgres://"))) {
            // why: the value may hold a password; the message shows its scheme only, never the rest.
            int scheme = url.indexOf("://");
            String shown = url.isEmpty() ? "\"\"" : scheme > 0 ? url.substring(0, scheme) + "://... (rest hidden)" : "(hidden)";
            read.problem(urlKey, shown, "a libpq URI such as postgresql://user@db.example:5432/jobs or"
                    + " postgresql://user@/jobs?host=/run/postgresql (required with jobs.store = postgresql)");
        } else if (used) {
            // why: a port out of range or not a number passed the scheme check and only failed when the
            // store opened, where the CLI said 69 (unavailable) without the file and line for a typo.
            try {
                io.vertx.pgclient.PgConnectOptions.fromUri(url);
                PostgresUrl.unknownParameter(url).ifPresent(p -> read.problem(urlKey, EffectiveConfig.withoutPassword(url),
                        "a libpq URI whose query parameters are among " + String.join(", ", PostgresUrl.PARAMETERS)
                                + " (" + p + (p.equals("sslcrldir") ? " is not supported: put the revocation lists in one PEM"
                                + " file and name it with sslcrl)" : " is not one the client uses)")));
                tlsProblem(url).ifPresent(p -> read.problem(urlKey, EffectiveConfig.withoutPassword(url), p));
                try {
                    PostgresUrl.connectTimeout(url);
                } catch (NumberFormatException notWhole) {
                    read.problem(urlKey, EffectiveConfig.withoutPassword(url), "a libpq URI whose connect_timeout is whole"
                            + " seconds (connect_timeout=10; 0: no limit)");
                }
            } catch (RuntimeException e) {
                read.problem(urlKey, EffectiveConfig.withoutPassword(url), "a libpq URI such as postgresql://user@db.example:5432/jobs or"
                        + " postgresql://user@/jobs?host=/run/postgresql (a port 1-65535; a / ? # @ or : in the user or password"
                        + " percent-encoded, or the password in jobs.postgresql.password-file)");
            }
        }
        String fileText = read.string(full("jobs.postgresql.password-file")).trim();
        Optional<Path> passwordFile = Optional.empty();
        if (!fileText.isEmpty()) {
            try {
                passwordFile = Optional.of(Path.of(fileText));
                if (used && !readableFile(fileText)) {
                    read.problem(full("jobs.postgresql.password-file"), "a readable file whose first line is the password, or \"\" for none; "
                            + whyUnreadable(Path.of(fileText)));
                }
            } catch (java.nio.file.InvalidPathException e) {
                read.problem(full("jobs.postgresql.password-file"), "a file path, or \"\" for none");
            }
        }
        int poolSize = read.integer(Rule.intAtLeast(full("jobs.postgresql.pool-size"), 1));
        Duration heartbeat = read.duration(Rule.durationAtLeast(full("jobs.postgresql.heartbeat-interval"),
                Duration.ofMillis(10), defaults.heartbeatInterval()));
        Duration ttl = read.duration(Rule.durationAtLeast(full("jobs.postgresql.node-ttl"), Duration.ofMillis(20), defaults.nodeTtl()));
        if (ttl.compareTo(heartbeat.multipliedBy(2)) < 0) {
            read.problem(full("jobs.postgresql.node-ttl"), "a duration >= 2 x jobs.postgresql.heartbeat-interval ("
                    + Durations.format(heartbeat.multipliedBy(2)) + "), or a slow heartbeat makes a live node dead");
            ttl = heartbeat.multipliedBy(2);
        }
        Duration lease = read.duration(Rule.durationAtLeast(full("jobs.postgresql.job-lease"), Duration.ofSeconds(1), defaults.jobLease()));
        if (used && !workTimeout.isZero() && lease.compareTo(workTimeout) <= 0) {
            // why an error: a section still running when its lease ends is made ready again and run
            // by another node while the first still runs (its late ack is then rejected).
            // placed where the operator wrote one of the two (job-lease's default is reference.conf's)
            String where = read.whereIs(full("jobs.postgresql.job-lease"));
            if (where == null || where.matches("(.*/)?reference\\.conf:\\d+")) {
                where = read.whereIs(ShieldpoolConfig.Work.TIMEOUT.key());
            }
            read.problems().add(new ConfigProblem(full("jobs.postgresql.job-lease"), Durations.format(lease),
                    "a duration longer than work.timeout (" + Durations.format(workTimeout)
                            + "), or a section still running at its lease's end runs twice", where));
        }
        int concurrency = read.integer(Rule.intAtLeast(full("jobs.limits.concurrency"), 0));
        double rate = read.number(new Rule<>(full("jobs.limits.rate"), "a number >= 0 (0: no limit)", v -> v >= 0 && Double.isFinite(v), 0.0));
        double burst = read.number(new Rule<>(full("jobs.limits.burst"), "a number >= 0 (0: no limit)", v -> v >= 0 && Double.isFinite(v), 0.0));
        if (burst > 0 && rate == 0) {
            read.problem(full("jobs.limits.burst"), "0 when jobs.limits.rate is 0 (burst is the size of the rate limit's"
                    + " bucket: set jobs.limits.rate too, or remove burst)");
        }
        if (!used && (concurrency > 0 || rate > 0)) {
            read.problem(full(concurrency > 0 ? "jobs.limits.concurrency" : "jobs.limits.rate"),
                    "0 (cluster-wide limits need jobs.store = postgresql; one daemon's pool.size already bounds its sections)");
        }
        boolean statementCache = read.bool(full("jobs.postgresql.statement-cache"));
        boolean behindPgbouncer = read.bool(full("jobs.postgresql.behind-pgbouncer"));
        if (behindPgbouncer && statementCache) {
            read.problem(full("jobs.postgresql.statement-cache"), "false with jobs.postgresql.behind-pgbouncer = true (the"
                    + " client sends a statement's parse and execute together through PgBouncer, and keeps none prepared)");
        }
        return new ShieldpoolConfig.Postgresql(url, passwordFile, poolSize, heartbeat, ttl, lease, concurrency, rate, burst,
                statementCache, behindPgbouncer);
    }

    private String workType() {
        String key = full("work.type");
        try {
            Optional<String> type = workTypes.recognise(config.getString(key).trim());
            if (type.isPresent()) {
                return type.get();
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        read.problem(key, workTypes.expected());
        return "demo";
    }

    // ---- admin: the HTTP server and its token ----

    /** Shortest admin token accepted: 16 characters leave guessing out of reach of a rate-limited 401. */
    static final int MIN_TOKEN_LENGTH = 16;

    private ShieldpoolConfig.Admin admin() {
        boolean enabled = read.bool(full("admin.enabled"));
        String host = hostName("admin.host");
        int port = read.integer(ShieldpoolConfig.Admin.PORT);
        Optional<String> token = adminToken();
        if (enabled && token.isEmpty() && !host.isEmpty() && !isLoopback(host)) {
            // why: named after the key to set, placed where the host was written (what triggered the rule).
            read.problems().add(new ConfigProblem(full("admin.token"), "(none)", "a token of at least " + MIN_TOKEN_LENGTH
                    + " characters, required because shieldpool.admin.host " + host + " is not a loopback address",
                    read.whereIs(full("admin.host"))));
        }
        return new ShieldpoolConfig.Admin(enabled, host, port, token,
                read.duration(ShieldpoolConfig.Admin.IDLE_TIMEOUT),
                read.duration(ShieldpoolConfig.Admin.REQUEST_HEADER_TIMEOUT),
                read.integer(ShieldpoolConfig.Admin.MAX_CONNECTIONS));
    }

    private String hostName(String key) {
        try {
            String host = config.getString(full(key)).trim();
            if (host.matches("[A-Za-z0-9._:%-]+")) {
                return host;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        read.problem(full(key), "an IP address or host name, such as 127.0.0.1, ::1, 0.0.0.0 or localhost");
        return "";
    }

    /** The token, checked without ever rendering its value into a message. */
    private Optional<String> adminToken() {
        String path = full("admin.token");
        try {
            String token = config.getString(path);
            if (token.isEmpty()) {
                return Optional.empty();
            }
            if (token.length() >= MIN_TOKEN_LENGTH && token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                return Optional.of(token);
            }
            read.problem(path, "(" + token.length() + " characters, hidden)", "at least "
                    + MIN_TOKEN_LENGTH + " printable ASCII characters without spaces, or \"\" for none");
        } catch (ConfigException e) {
            read.problem(path, "(hidden)", "a string");
        }
        return Optional.empty();
    }

    /** Loopback by its literal form (or "localhost"); any other host name may resolve anywhere. */
    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException notALiteral) {
            return false;
        }
    }

    private static int resolveEventLoops(int configured) {
        return configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
    }

    // ---- unknown keys ----

    private void rejectUnknownKeys(String workType) {
        Set<String> known = leafPaths(ConfigFactory.defaultReference());
        List<String> open = workTypes.operatorNamedKeys(workType);
        for (String path : leafPaths(config)) {
            if (!known.contains(path) && open.stream().noneMatch(path::startsWith)) {
                ConfigValue value = config.getValue(path);
                Optional<String> meant = closest(path, known);
                String suggestion = meant.map(k -> "a known key (did you mean " + k + "?)").orElse("a known key (see reference.conf)");
                read.problems().add(new ConfigProblem(path, unknownKeysValue(meant.orElse(path), path, value), suggestion,
                        ConfigReader.where(value.origin())));
            }
        }
    }

    /**
     * An unknown key's value as its error line shows it. why not always the value: a mistyped
     * secret (jobs.postgresql.password, or admin.tokn: the key it is nearest to is a secret) or a URL
     * with a password in it (jobs.postgresql.uri) would be printed to a terminal or a journal; such
     * values are hidden, a URL's password masked.
     */
    static String unknownKeysValue(String meant, String path, ConfigValue value) {
        String rendered = ConfigReader.render(value);
        if (rendered.equals("\"\"")) {
            return rendered;
        }
        List<String> all = List.of(ConfigLoader.ROOT);
        if (EffectiveConfig.isSecret(path, all) || EffectiveConfig.isSecret(meant, all)) {
            return "(hidden)";
        }
        return rendered.contains("://") ? EffectiveConfig.withoutPassword(rendered) : rendered;
    }

    private static Set<String> leafPaths(Config config) {
        Set<String> paths = new TreeSet<>();
        if (config.hasPathOrNull(ConfigLoader.ROOT)) {
            try {
                for (Map.Entry<String, ConfigValue> e : config.getConfig(ConfigLoader.ROOT).entrySet()) {
                    paths.add(ConfigLoader.ROOT + "." + e.getKey());
                }
            } catch (ConfigException.WrongType e) {
                paths.add(ConfigLoader.ROOT);
            }
        }
        return paths;
    }

    /** The known key nearest by edit distance, if it is close enough to be a typo. */
    static Optional<String> closest(String path, Set<String> known) {
        return known.stream()
                .map(k -> Map.entry(k, editDistance(path, k)))
                .filter(e -> e.getValue() <= Math.max(2, e.getKey().length() / 6))
                .min(Comparator.comparingInt(Map.Entry<String, Integer>::getValue))
                .map(Map.Entry::getKey);
    }

    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static String full(String key) {
        return ConfigLoader.ROOT + "." + key;
    }
}
