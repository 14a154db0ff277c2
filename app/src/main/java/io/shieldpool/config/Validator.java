package io.shieldpool.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

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
 * with it. Each typed read records a problem and returns a harmless placeholder, so validation
 * goes on and reports all problems at once.
 */
final class Validator {

    /** What a plug-in's type must look like: it names the subtree shieldpool.work.TYPE too. */
    private static final java.util.regex.Pattern PLUGIN_TYPE = java.util.regex.Pattern.compile("[a-z][a-z0-9-]{0,62}");

    /** Keys directly under shieldpool.work that cannot be a plug-in's type. */
    private static final Set<String> RESERVED_WORK_KEYS = Set.of("type", "timeout", "plugin-directory");

    /** HTTP methods the http kind sends. */
    static final Set<String> HTTP_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    private final Config config;
    private final List<ConfigProblem> problems = new ArrayList<>();

    private Validator(Config config) {
        this.config = config;
    }

    static ShieldpoolConfig validate(Optional<Path> source, Config merged) throws InvalidConfigException {
        Validator v = new Validator(merged);
        String type = v.workType();
        v.rejectUnknownKeys(type);
        var pool = new ShieldpoolConfig.Pool(
                v.intAtLeast("pool.size", 0),
                resolveEventLoops(v.intAtLeast("pool.event-loops", 0)));
        var demo = new ShieldpoolConfig.Demo(
                v.intAtLeast("work.demo.steps", 1),
                v.duration("work.demo.step-duration", Duration.ZERO, Duration.ZERO),
                v.probability("work.demo.failure-probability"),
                v.bool("work.demo.log-steps"),
                v.intAtLeast("work.demo.stall-in-section", 0));
        var work = new ShieldpoolConfig.Work(type,
                v.duration("work.timeout", Duration.ZERO, Duration.ZERO),
                v.optionalDirectory("work.plugin-directory", false),
                demo, v.exec(type.equals("exec")), v.http(type.equals("http")), v.pluginSettings(type));
        Duration initial = v.duration("worker.backoff.initial", Duration.ofMillis(1), Duration.ofMillis(100));
        Duration max = v.duration("worker.backoff.max", Duration.ofMillis(1), Duration.ofSeconds(30));
        if (max.compareTo(initial) < 0) {
            v.problem("worker.backoff.max", "a duration >= worker.backoff.initial (" + Durations.format(initial) + ")");
            max = initial;
        }
        var shutdown = new ShieldpoolConfig.Shutdown(v.duration("shutdown.grace", Duration.ZERO, Duration.ZERO));
        var log = new ShieldpoolConfig.Log(
                ShieldpoolConfig.LogLevel.valueOf(v.oneOf("log.level",
                        Set.of("error", "warn", "info", "debug", "trace"), "info").toUpperCase(Locale.ROOT)),
                ShieldpoolConfig.LogFormat.valueOf(v.oneOf("log.format",
                        Set.of("text", "json"), "text").toUpperCase(Locale.ROOT)));
        var admin = v.admin();
        var systemd = new ShieldpoolConfig.Systemd(
                v.duration("systemd.stall-after", Duration.ofMillis(1), Duration.ofMinutes(5)));
        var jobs = v.jobs();
        if (!v.problems.isEmpty()) {
            throw new InvalidConfigException(v.problems);
        }
        return new ShieldpoolConfig(source, pool, work,
                new ShieldpoolConfig.Backoff(initial, max), shutdown, log, admin, systemd, jobs);
    }

    // ---- work: the kind, and each kind's settings ----

    private String workType() {
        String key = "work.type";
        String expected = "demo, exec, http, or a plug-in's type (lower-case letters, digits and '-')";
        try {
            String value = config.getString(full(key)).trim();
            String lower = value.toLowerCase(Locale.ROOT);
            if (ShieldpoolConfig.BUILT_IN_WORK_TYPES.contains(lower)) {
                return lower;
            }
            if (PLUGIN_TYPE.matcher(value).matches() && !RESERVED_WORK_KEYS.contains(value)) {
                return value;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, expected);
        return "demo";
    }

    /** The exec kind's keys; {@code used}: exec is the work type, so a command is required. */
    private ShieldpoolConfig.Exec exec(boolean used) {
        List<String> command = stringList("work.exec.command");
        Optional<Path> directory = optionalDirectory("work.exec.directory", used);
        if (used && command.isEmpty()) {
            problem("work.exec.command", "a non-empty list: the program and its arguments, "
                    + "such as [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]");
        } else if (!command.isEmpty() && command.getFirst().isBlank()) {
            problem("work.exec.command", "a list whose first element is the program to run");
        } else if (used && !isExecutable(command.getFirst(), directory)) {
            problem("work.exec.command", "a list whose first element is an executable file (a path, or a name on PATH"
                    + directory.map(d -> "; a relative path is taken from work.exec.directory " + d).orElse("")
                    + "); " + command.getFirst() + " is not");
        }
        Map<String, String> environment = stringMap("work.exec.environment", "[A-Za-z_][A-Za-z0-9_]*",
                "environment variable names (letters, digits, '_', not starting with a digit)");
        Duration killAfter = duration("work.exec.kill-after", Duration.ZERO, Duration.ofSeconds(5));
        return new ShieldpoolConfig.Exec(command, environment, directory, killAfter);
    }

    /**
     * A path to an executable file, or a name found as one on PATH. why {@code directory}: the
     * child changes into work.exec.directory before posix_spawnp looks the program up, so a
     * relative path ({@code ./bin/sync.sh}, or a relative PATH entry) means a file there, not in
     * the daemon's own working directory.
     */
    private static boolean isExecutable(String program, Optional<Path> directory) {
        Path base = directory.orElse(Path.of(""));
        if (program.contains("/")) {
            Path file = base.resolve(program);
            return java.nio.file.Files.isExecutable(file) && !java.nio.file.Files.isDirectory(file);
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path file = base.resolve(dir).resolve(program);
                if (java.nio.file.Files.isExecutable(file) && !java.nio.file.Files.isDirectory(file)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The http kind's keys; {@code used}: http is the work type, so a URL is required. */
    private ShieldpoolConfig.Http http(boolean used) {
        String method = oneOf("work.http.method", HTTP_METHODS.stream().map(m -> m.toLowerCase(Locale.ROOT))
                .collect(java.util.stream.Collectors.toSet()), "get").toUpperCase(Locale.ROOT);
        Optional<java.net.URI> url = httpUrl("work.http.url", used);
        Map<String, String> headers = stringMap("work.http.headers", "[!#$%&'*+.^_`|~0-9A-Za-z-]+",
                "header names (letters, digits and !#$%&'*+.^_`|~-)");
        String body = string("work.http.body");
        Duration timeout = duration("work.http.timeout", Duration.ofMillis(1), Duration.ofSeconds(30));
        ShieldpoolConfig.StatusSet statuses = statusSet("work.http.success-statuses");
        double maxRate = nonNegativeNumber("work.http.max-rate", "a number of requests per second >= 0 (0: no limit)");
        return new ShieldpoolConfig.Http(method, url, headers, body, timeout, statuses, maxRate);
    }

    /** A plug-in's subtree shieldpool.work.TYPE, as written (empty for built-in kinds). */
    private Config pluginSettings(String type) {
        String path = full("work." + type);
        if (ShieldpoolConfig.BUILT_IN_WORK_TYPES.contains(type) || !config.hasPath(path)) {
            return ConfigFactory.empty();
        }
        try {
            return config.getConfig(path);
        } catch (ConfigException e) {
            problem("work." + type, "an object holding the " + type + " plug-in's settings");
            return ConfigFactory.empty();
        }
    }

    private Optional<java.net.URI> httpUrl(String key, boolean required) {
        String expected = "an absolute http:// or https:// URL with a host, such as https://api.example.com/v1/sync";
        String text = string(key).trim();
        if (text.isEmpty()) {
            if (required) {
                problem(key, expected);
            }
            return Optional.empty();
        }
        try {
            java.net.URI uri = new java.net.URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                return Optional.of(uri);
            }
        } catch (java.net.URISyntaxException ignored) {
            // reported below
        }
        problem(key, expected);
        return Optional.empty();
    }

    private ShieldpoolConfig.StatusSet statusSet(String key) {
        String expected = "a non-empty list of statuses 100-599 or classes such as \"2xx\"";
        Set<Integer> codes = new java.util.HashSet<>();
        Set<Integer> classes = new java.util.HashSet<>();
        try {
            List<? extends ConfigValue> list = config.getList(full(key));
            for (ConfigValue item : list) {
                String text = String.valueOf(item.unwrapped()).trim().toLowerCase(Locale.ROOT);
                if (text.matches("[1-5]xx")) {
                    classes.add(text.charAt(0) - '0');
                } else if (text.matches("[1-5][0-9][0-9]")) {
                    codes.add(Integer.parseInt(text));
                } else {
                    problem(key, expected);
                    return new ShieldpoolConfig.StatusSet(Set.of(), Set.of(2));
                }
            }
            if (!list.isEmpty()) {
                return new ShieldpoolConfig.StatusSet(codes, classes);
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, expected);
        return new ShieldpoolConfig.StatusSet(Set.of(), Set.of(2));
    }

    private List<String> stringList(String key) {
        try {
            List<? extends ConfigValue> list = config.getList(full(key));
            List<String> strings = new ArrayList<>(list.size());
            for (ConfigValue item : list) {
                ConfigValueType type = item.valueType();
                if (type != ConfigValueType.STRING && type != ConfigValueType.NUMBER && type != ConfigValueType.BOOLEAN) {
                    problem(key, "a list of strings");
                    return List.of();
                }
                strings.add(String.valueOf(item.unwrapped()));
            }
            return strings;
        } catch (ConfigException e) {
            problem(key, "a list of strings, such as [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]");
            return List.of();
        }
    }

    /** An object of string values whose names match {@code namePattern}. */
    private Map<String, String> stringMap(String key, String namePattern, String namesExpected) {
        String path = full(key);
        Map<String, String> values = new java.util.LinkedHashMap<>();
        com.typesafe.config.ConfigObject object;
        try {
            object = config.getObject(path);
        } catch (ConfigException e) {
            problem(key, "an object of strings, such as { NAME = \"value\" }");
            return values;
        }
        for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
            ConfigValue value = e.getValue();
            if (!e.getKey().matches(namePattern)) {
                problems.add(new ConfigProblem(path + "." + e.getKey(), render(value), namesExpected, where(value.origin())));
            } else if (value.valueType() == ConfigValueType.OBJECT || value.valueType() == ConfigValueType.LIST
                    || value.valueType() == ConfigValueType.NULL) {
                problems.add(new ConfigProblem(path + "." + e.getKey(), render(value), "a string", where(value.origin())));
            } else {
                values.put(e.getKey(), String.valueOf(value.unwrapped()));
            }
        }
        return values;
    }

    private String string(String key) {
        try {
            return config.getString(full(key));
        } catch (ConfigException e) {
            problem(key, "a string");
            return "";
        }
    }

    private double nonNegativeNumber(String key, String expected) {
        try {
            double value = config.getDouble(full(key));
            if (value >= 0 && Double.isFinite(value)) {
                return value;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, expected);
        return 0;
    }

    /** "" means none; otherwise a directory that exists (checked only when {@code mustExist}). */
    private Optional<Path> optionalDirectory(String key, boolean mustExist) {
        String text = string(key).trim();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Path path;
        try {
            path = Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            problem(key, "a directory path, or \"\" for none");
            return Optional.empty();
        }
        if ((mustExist || key.equals("work.plugin-directory")) && !java.nio.file.Files.isDirectory(path)) {
            problem(key, "an existing directory, or \"\" for none");
            return Optional.empty();
        }
        return Optional.of(path);
    }

    // ---- jobs: the durable job store ----

    /** Where shieldpool.jobs.sqlite.path = "" puts the file: systemd's StateDirectory=, else /var/lib/shieldpool. */
    static Path defaultJobsPath() {
        String state = System.getenv("STATE_DIRECTORY");
        Path dir = state == null || state.isBlank() ? Path.of("/var/lib/shieldpool") : Path.of(state.split(":")[0]);
        return dir.resolve("jobs.db");
    }

    private ShieldpoolConfig.Jobs jobs() {
        var store = ShieldpoolConfig.JobStoreType.valueOf(oneOf("jobs.store", Set.of("none", "sqlite", "postgresql"), "none")
                .toUpperCase(Locale.ROOT));
        String pathText = string("jobs.sqlite.path").trim();
        Path path = defaultJobsPath();
        if (!pathText.isEmpty()) {
            try {
                path = Path.of(pathText);
            } catch (java.nio.file.InvalidPathException e) {
                problem("jobs.sqlite.path", "a file path, or \"\" for " + defaultJobsPath());
            }
        }
        if (store == ShieldpoolConfig.JobStoreType.SQLITE) {
            Path dir = path.toAbsolutePath().getParent();
            if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
                problem("jobs.sqlite.path", "a file in an existing directory (" + dir + " does not exist)"
                        + (pathText.isEmpty() ? "; \"\" means " + path : ""));
            }
        }
        boolean fullSync = oneOf("jobs.sqlite.synchronous", Set.of("full", "normal"), "full").equals("full");
        String queue = string("jobs.queue").trim();
        if (queue.isEmpty()) {
            problem("jobs.queue", "a non-empty queue name");
            queue = "default";
        }
        int maxAttempts = intAtLeast("jobs.max-attempts", 1);
        Duration backoff = duration("jobs.retry.backoff", Duration.ofMillis(1), Duration.ofSeconds(1));
        Duration maxBackoff = duration("jobs.retry.max-backoff", Duration.ofMillis(1), Duration.ofHours(1));
        if (maxBackoff.compareTo(backoff) < 0) {
            problem("jobs.retry.max-backoff", "a duration >= jobs.retry.backoff (" + Durations.format(backoff) + ")");
            maxBackoff = backoff;
        }
        double jitter = probability("jobs.retry.jitter");
        Duration poll = duration("jobs.poll-interval", Duration.ofMillis(1), Duration.ofSeconds(1));
        int claimBatch = intAtLeast("jobs.claim-batch", 1);
        Duration retention = duration("jobs.retention.done", Duration.ZERO, Duration.ofHours(24));
        return new ShieldpoolConfig.Jobs(store, path, fullSync, queue, maxAttempts, backoff, maxBackoff, jitter, poll,
                claimBatch, retention, postgresql(store == ShieldpoolConfig.JobStoreType.POSTGRESQL));
    }

    private ShieldpoolConfig.Postgresql postgresql(boolean used) {
        var defaults = ShieldpoolConfig.Postgresql.DEFAULTS;
        String url = string("jobs.postgresql.url").trim();
        if (used && !(url.startsWith("postgresql://") || url.startsWith("postgres://"))) {
            // why: the value may hold a password; the message shows its scheme only, never the rest.
            String path = full("jobs.postgresql.url");
            int scheme = url.indexOf("://");
            String shown = url.isEmpty() ? "\"\"" : scheme > 0 ? url.substring(0, scheme) + "://... (rest hidden)" : "(hidden)";
            problems.add(new ConfigProblem(path, shown, "a libpq URI such as postgresql://user@db.example:5432/jobs or"
                    + " postgresql://user@/jobs?host=/run/postgresql (required with jobs.store = postgresql)",
                    config.hasPathOrNull(path) ? where(config.getValue(path).origin()) : null));
        }
        String fileText = string("jobs.postgresql.password-file").trim();
        Optional<Path> passwordFile = Optional.empty();
        if (!fileText.isEmpty()) {
            try {
                passwordFile = Optional.of(Path.of(fileText));
                if (used && !java.nio.file.Files.isReadable(passwordFile.get())) {
                    problem("jobs.postgresql.password-file", "a readable file whose first line is the password, or \"\" for none");
                }
            } catch (java.nio.file.InvalidPathException e) {
                problem("jobs.postgresql.password-file", "a file path, or \"\" for none");
            }
        }
        int poolSize = intAtLeast("jobs.postgresql.pool-size", 1);
        Duration heartbeat = duration("jobs.postgresql.heartbeat-interval", Duration.ofMillis(10), defaults.heartbeatInterval());
        Duration ttl = duration("jobs.postgresql.node-ttl", Duration.ofMillis(20), defaults.nodeTtl());
        if (ttl.compareTo(heartbeat.multipliedBy(2)) < 0) {
            problem("jobs.postgresql.node-ttl", "a duration >= 2 x jobs.postgresql.heartbeat-interval ("
                    + Durations.format(heartbeat.multipliedBy(2)) + "), or a slow heartbeat makes a live node dead");
            ttl = heartbeat.multipliedBy(2);
        }
        Duration lease = duration("jobs.postgresql.job-lease", Duration.ofSeconds(1), defaults.jobLease());
        int concurrency = intAtLeast("jobs.limits.concurrency", 0);
        double rate = nonNegative("jobs.limits.rate");
        double burst = nonNegative("jobs.limits.burst");
        if (!used && (concurrency > 0 || rate > 0)) {
            problem(concurrency > 0 ? "jobs.limits.concurrency" : "jobs.limits.rate",
                    "0 (cluster-wide limits need jobs.store = postgresql; one daemon's pool.size already bounds its sections)");
        }
        return new ShieldpoolConfig.Postgresql(url, passwordFile, poolSize, heartbeat, ttl, lease, concurrency, rate, burst);
    }

    private double nonNegative(String key) {
        try {
            double value = config.getDouble(full(key));
            if (value >= 0 && Double.isFinite(value)) {
                return value;
            }
        } catch (com.typesafe.config.ConfigException e) {
            // reported below
        }
        problem(key, "a number >= 0 (0: no limit)");
        return 0;
    }

    // ---- admin: the HTTP server and its token ----

    /** Shortest admin token accepted: 16 characters leave guessing out of reach of a rate-limited 401. */
    static final int MIN_TOKEN_LENGTH = 16;

    private ShieldpoolConfig.Admin admin() {
        boolean enabled = bool("admin.enabled");
        String host = hostName("admin.host");
        int port = port("admin.port");
        Optional<String> token = adminToken();
        if (enabled && token.isEmpty() && !host.isEmpty() && !isLoopback(host)) {
            // why: named after the key to set, placed where the host was written (what triggered the rule).
            ConfigValue hostValue = config.getValue(full("admin.host"));
            problems.add(new ConfigProblem(full("admin.token"), "(none)", "a token of at least " + MIN_TOKEN_LENGTH
                    + " characters, required because shieldpool.admin.host " + host + " is not a loopback address",
                    where(hostValue.origin())));
        }
        return new ShieldpoolConfig.Admin(enabled, host, port, token);
    }

    private int port(String key) {
        try {
            int port = config.getInt(full(key));
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, "an integer from 0 to 65535");
        return 0;
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
        problem(key, "an IP address or host name, such as 127.0.0.1, ::1, 0.0.0.0 or localhost");
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
            problems.add(new ConfigProblem(path, "(" + token.length() + " characters, hidden)", "at least "
                    + MIN_TOKEN_LENGTH + " printable ASCII characters without spaces, or \"\" for none",
                    where(config.getValue(path).origin())));
        } catch (ConfigException e) {
            problems.add(new ConfigProblem(path, "(hidden)", "a string", config.hasPathOrNull(path)
                    ? where(config.getValue(path).origin()) : null));
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

    // ---- typed reads: each records a problem and returns a placeholder on bad input ----

    private int intAtLeast(String key, int min) {
        String path = full(key);
        try {
            int value = config.getInt(path);
            if (value < min) {
                problem(key, "an integer >= " + min);
                return min;
            }
            return value;
        } catch (ConfigException e) {
            problem(key, "an integer >= " + min);
            return min;
        }
    }

    private double probability(String key) {
        try {
            double value = config.getDouble(full(key));
            if (value >= 0 && value <= 1) {
                return value;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, "a number from 0.0 to 1.0");
        return 0;
    }

    private boolean bool(String key) {
        try {
            return config.getBoolean(full(key));
        } catch (ConfigException e) {
            problem(key, "true or false");
            return false;
        }
    }

    private Duration duration(String key, Duration min, Duration placeholder) {
        String expected = "a duration such as 250ms, 30s or 2m"
                + (min.isZero() ? " (0 allowed)" : ", at least " + min.toMillis() + "ms");
        try {
            Duration value = config.getDuration(full(key));
            if (value.compareTo(min) < 0) {
                problem(key, expected);
                return placeholder;
            }
            return value;
        } catch (ConfigException e) {
            problem(key, expected);
            return placeholder;
        }
    }

    private String oneOf(String key, Set<String> allowed, String placeholder) {
        String expected = "one of " + String.join(", ", new TreeSet<>(allowed));
        try {
            String value = config.getString(full(key));
            if (allowed.contains(value.toLowerCase(Locale.ROOT))) {
                return value.toLowerCase(Locale.ROOT);
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, expected);
        return placeholder;
    }

    // ---- unknown keys ----

    /** Subtrees whose keys the operator names: environment variables and headers. */
    private static final List<String> OPEN_SUBTREES = List.of(
            ConfigLoader.ROOT + ".work.exec.environment.", ConfigLoader.ROOT + ".work.http.headers.");

    private void rejectUnknownKeys(String workType) {
        Set<String> known = leafPaths(ConfigFactory.defaultReference());
        List<String> open = new ArrayList<>(OPEN_SUBTREES);
        if (!ShieldpoolConfig.BUILT_IN_WORK_TYPES.contains(workType)) {
            // A plug-in's settings are its own to check; shieldpool only hands them over.
            open.add(ConfigLoader.ROOT + ".work." + workType + ".");
        }
        for (String path : leafPaths(config)) {
            if (!known.contains(path) && open.stream().noneMatch(path::startsWith)) {
                ConfigValue value = config.getValue(path);
                String suggestion = closest(path, known)
                        .map(k -> "a known key (did you mean " + k + "?)")
                        .orElse("a known key (see reference.conf)");
                problems.add(new ConfigProblem(path, render(value), suggestion, where(value.origin())));
            }
        }
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

    // ---- problem reporting ----

    private void problem(String key, String expected) {
        String path = full(key);
        if (!config.hasPathOrNull(path)) {
            problems.add(new ConfigProblem(path, "(missing)", expected, null));
            return;
        }
        ConfigValue value = config.getValue(path);
        problems.add(new ConfigProblem(path, render(value), expected, where(value.origin())));
    }

    private static String full(String key) {
        return ConfigLoader.ROOT + "." + key;
    }

    /** The value as the operator wrote it: strings bare unless blank or spaced, so "3 parsecs" stays readable. */
    static String render(ConfigValue value) {
        if (value.valueType() == ConfigValueType.STRING) {
            String text = (String) value.unwrapped();
            return text.isBlank() || text.chars().anyMatch(Character::isWhitespace)
                    ? value.render(ConfigRenderOptions.concise()) : text;
        }
        return value.render(ConfigRenderOptions.concise());
    }

    /** file:line for a file, or the name of the layer (environment, system properties). */
    static String where(ConfigOrigin origin) {
        if (origin == null) {
            return null;
        }
        if (origin.filename() != null) {
            return origin.lineNumber() > 0 ? origin.filename() + ":" + origin.lineNumber() : origin.filename();
        }
        if (origin.resource() != null) {
            return origin.resource() + (origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "");
        }
        return origin.description();
    }
}
