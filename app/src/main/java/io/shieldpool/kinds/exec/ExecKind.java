package io.shieldpool.kinds.exec;

import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.ConfigReader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.kinds.PreparedKind;
import io.shieldpool.kinds.StallAdvice;
import io.shieldpool.kinds.Work;
import io.shieldpool.kinds.WorkKind;
import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** The exec kind: each section runs {@code work.exec.command} once and waits for it (see {@link ExecWork}). */
public final class ExecKind implements WorkKind {

    private static final String COMMAND = "shieldpool.work.exec.command";
    private static final String ENVIRONMENT = "shieldpool.work.exec.environment";

    private final Supplier<Optional<String>> platformProblem;

    /** The exec kind of this system (its C library decides whether it can run). */
    public ExecKind() {
        this(ExecWork::platformProblem);
    }

    /** @param platformProblem what this system lacks to run exec, in one line (tests stand in a missing glibc function) */
    ExecKind(Supplier<Optional<String>> platformProblem) {
        this.platformProblem = platformProblem;
    }

    @Override
    public String name() {
        return "exec";
    }

    @Override
    public KindSettings readSettings(ConfigReader reader, String type, boolean running) {
        List<String> command = reader.stringList(COMMAND,
                "a list of strings, such as [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]");
        Optional<Path> directory = reader.optionalDirectory("shieldpool.work.exec.directory", running);
        if (running && command.isEmpty()) {
            reader.problem(COMMAND, "a non-empty list: the program and its arguments, "
                    + "such as [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]");
        } else if (!command.isEmpty() && command.getFirst().isBlank()) {
            reader.problem(COMMAND, "a list whose first element is the program to run");
        } else if (running && !isExecutable(command.getFirst(), directory)) {
            reader.problem(COMMAND, "a list whose first element is an executable file (a path, or a name on PATH"
                    + directory.map(d -> "; a relative path is taken from work.exec.directory " + d).orElse("")
                    + "); " + command.getFirst() + " is not");
        }
        Map<String, String> environment = reader.stringMap(ENVIRONMENT, "[A-Za-z_][A-Za-z0-9_]*",
                "environment variable names (letters, digits, '_', not starting with a digit)");
        Duration killAfter = reader.duration(ExecSettings.KILL_AFTER);
        return new ExecSettings(command, environment, directory, killAfter,
                reader.integer(ExecSettings.MAX_LINE_LENGTH), reader.integer(ExecSettings.MAX_LINES_PER_SECOND));
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
            return Files.isExecutable(file) && !Files.isDirectory(file);
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path file = base.resolve(dir).resolve(program);
                if (Files.isExecutable(file) && !Files.isDirectory(file)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public List<String> operatorNamedKeys(String type) {
        return List.of(ENVIRONMENT + ".");
    }

    @Override
    public List<String> advice(ShieldpoolConfig config) {
        return StallAdvice.forSectionsWithoutSteps(config, config.work().timeout());
    }

    @Override
    public PreparedKind preflight(EffectiveConfig config, List<String> builtIn) throws InvalidConfigException {
        Optional<String> problem = platformProblem.get();
        if (problem.isPresent()) {
            EffectiveConfig.Entry entry = config.entries().get("shieldpool.work.type");
            throw new InvalidConfigException(List.of(new ConfigProblem("shieldpool.work.type", name(),
                    "a kind this system can run; " + problem.get(), entry == null ? null : entry.origin())));
        }
        return Runtime::new;
    }

    /** The commands of every exec work this daemon built, across reloads. */
    private static final class Runtime implements KindRuntime {
        private final Vertx vertx;
        private final Children children = new Children();
        private final CommandThreads threads = new CommandThreads();
        private volatile Duration killAfter = Duration.ofSeconds(5);

        Runtime(Vertx vertx) {
            this.vertx = vertx;
        }

        @Override
        public Work create(ShieldpoolConfig config) {
            ExecSettings settings = (ExecSettings) config.work().settings();
            killAfter = settings.killAfter();
            return new ExecWork(settings, config.work().timeout(), vertx, children, threads);
        }

        @Override
        public void afterCut() {
            children.terminateAll(killAfter);
        }

        @Override
        public void shutdown() {
            children.terminateAll(killAfter);
        }
    }
}
