package io.shieldpool.cli;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.kinds.PreparedKind;
import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.daemon.Daemon;
import io.shieldpool.daemon.StartupWarmup;
import io.shieldpool.view.ExitCode;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.signals.SignalTrap;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * The entry point. With no subcommand it runs the daemon until SIGTERM or SIGINT has drained the
 * pool, and exits with a documented code (see {@link ExitCode}).
 */
@Command(name = "shieldpool", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, subcommands = {CheckConfigCommand.class, StatusCommand.class, EnqueueCommand.class, JobsCommand.class,
                ReloadCommand.class},
        description = {
                "A worker-pool daemon whose shielded sections are never cut by a shutdown.",
                "",
                "With no command, runs the pool until SIGTERM or SIGINT, drains the sections in flight, and exits.",
        },
        exitCodeListHeading = "%nExit codes:%n",
        footer = {"", "Signals: SIGTERM/SIGINT drain and exit; a second SIGINT forces the exit (75);",
                "SIGHUP reloads the config file (`shieldpool reload` sends it and waits for the outcome);",
                "SIGTTIN/SIGTTOU grow/shrink the pool by one."})
public final class Main implements Callable<Integer> {

    /** Signals the daemon traps; see the README for what each does. */
    static final List<String> SIGNALS = List.of("TERM", "INT", "HUP", "TTIN", "TTOU");

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "HOCON config file (default: $SHIELDPOOL_CONFIG, else the embedded defaults)")
    Path configFile;

    public static void main(String[] args) {
        Optional<Main> plainRun = plainDaemonRun(args);
        int code;
        try {
            code = plainRun.isPresent() ? plainRun.get().call() : viaPicocli(args);
        } catch (Throwable e) {
            // why: the plain path runs outside picocli's handler; whatever escapes must still end
            // in the documented exit code and the halt below, or a started Vert.x thread would keep
            // the JVM up with SIGTERM trapped and never acted on.
            System.err.println(LogSetup.errorPrefix() + "shieldpool: internal error: " + e);
            e.printStackTrace();
            code = ExitCode.INTERNAL.code;
        }
        LogSetup.flush();
        System.err.flush();
        // why: the pool has drained, Vert.x is closed and the logs are flushed: nothing is left
        // for shutdown hooks to do. halt() skips them and exits at once, where returning would
        // leave Netty's non-daemon global executor keeping the JVM up ~0.85 s.
        Runtime.getRuntime().halt(code);
    }

    private static int viaPicocli(String[] args) {
        return commandLine().execute(args);
    }

    /** The whole command line model: what runs, and what the man page and completion are made from. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        Map<String, String> exitCodes = new LinkedHashMap<>();
        for (ExitCode exitCode : ExitCode.values()) {
            exitCodes.put(String.format("%2d", exitCode.code), exitCode.summary);
        }
        commandLine.getCommandSpec().usageMessage().exitCodeList(exitCodes);
        // why: Path.of("") is the current directory's empty name, and `--config ''` (a variable
        // left unset) went on to "config error: : cannot read"; it is a mistake on the command line.
        commandLine.registerConverter(Path.class, value -> {
            if (value.isEmpty()) {
                throw new CommandLine.TypeConversionException("'' (expected: a file name)");
            }
            return Path.of(value);
        });
        commandLine.setParameterExceptionHandler((e, a) -> {
            String prefix = LogSetup.errorPrefix();
            commandLine.getErr().println(prefix + "shieldpool: " + e.getMessage());
            commandLine.getErr().println(prefix + "try 'shieldpool --help'");
            return ExitCode.USAGE.code;
        });
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println(LogSetup.errorPrefix() + "shieldpool: internal error: " + e);
            e.printStackTrace(line.getErr());
            return ExitCode.INTERNAL.code;
        });
        return commandLine;
    }

    /**
     * The daemon's own command line, {@code [-c|--config FILE]}, recognised without picocli; any
     * other command line (help, version, subcommands, mistakes) goes to picocli.
     * why: picocli's first use costs 100-180 ms of reflection on classes the AOT cache cannot
     * hold (they are compiled for Java 5), a third of the daemon's start-up on this machine.
     */
    static Optional<Main> plainDaemonRun(String[] args) {
        Main main = new Main();
        String file;
        if (args.length == 0) {
            return Optional.of(main);
        } else if (args.length == 2 && (args[0].equals("--config") || args[0].equals("-c"))) {
            file = args[1];
        } else if (args.length == 1 && args[0].startsWith("--config=")) {
            file = args[0].substring("--config=".length());
        } else {
            return Optional.empty();
        }
        if (file.isEmpty() || file.startsWith("-")) {
            return Optional.empty();
        }
        try {
            main.configFile = Path.of(file);
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
        return Optional.of(main);
    }

    @Override
    public Integer call() {
        // First thing: a SIGTERM during start-up must be recorded, not kill the JVM.
        SignalTrap signals = SignalTrap.install(SIGNALS);
        giveNettyAMachineId();
        StartupWarmup.begin();
        WorkKinds kinds = WorkKinds.discover();
        ConfigLoader loader = ConfigLoader.forThisProcess(kinds);
        Optional<Path> file = configPath();
        EffectiveConfig config;
        try {
            config = loader.loadEffective(file);
        } catch (InvalidConfigException e) {
            printProblems(e.problems());
            return ExitCode.CONFIG.code;
        }
        // why: class initialisers on two threads that depend on each other can deadlock; from
        // here on (plug-in constructors, Vert.x) the main thread may touch Netty, so the side
        // thread's work is finished first. Config loading and signal traps overlapped with it.
        StartupWarmup.awaitDone();
        PreparedKind kind;
        try {
            kind = kinds.preflight(config);
        } catch (InvalidConfigException e) {
            printProblems(e.problems());
            return ExitCode.CONFIG.code;
        }
        return new Daemon(config, () -> loader.loadEffective(file), signals, version(), kind).run().code;
    }

    /**
     * why: Netty derives the machine part of its channel ids from a network interface's MAC address;
     * on a host or sandbox with loopback only (PrivateNetwork=, a container) it finds none and logs
     * a WARN "Failed to find a usable hardware address", the only warning of a clean start, then
     * uses random bytes. Those ids only tell channels apart in Netty's own debug output, so random
     * bytes, given up front, are as good, everywhere, and spare the interface scan. An
     * {@code io.netty.machineId} set by the operator (SHIELDPOOL_JAVA_OPTS) is kept.
     */
    private static void giveNettyAMachineId() {
        if (System.getProperty("io.netty.machineId") == null) {
            byte[] id = new byte[8];
            java.util.concurrent.ThreadLocalRandom.current().nextBytes(id);
            StringBuilder hex = new StringBuilder();
            for (byte b : id) {
                hex.append(hex.isEmpty() ? "" : ":").append(String.format("%02x", b & 0xff));
            }
            System.setProperty("io.netty.machineId", hex.toString());
        }
    }

    Optional<Path> configPath() {
        if (configFile != null) {
            return Optional.of(configFile);
        }
        String fromEnv = System.getenv("SHIELDPOOL_CONFIG");
        return fromEnv == null || fromEnv.isBlank() ? Optional.empty() : Optional.of(Path.of(fromEnv));
    }

    /** The daemon's config problems, one line each, then that it did not start. */
    static void printProblems(List<ConfigProblem> problems) {
        printProblems(problems, "; not started");
    }

    /** A command-line tool's (status, enqueue, jobs, check-config): no "not started", nothing was to start. */
    static void printToolProblems(List<ConfigProblem> problems) {
        printProblems(problems, "");
    }

    private static void printProblems(List<ConfigProblem> problems, String outcome) {
        String prefix = LogSetup.errorPrefix();
        for (ConfigProblem problem : problems) {
            System.err.println(prefix + "shieldpool: config error: " + problem);
        }
        System.err.println(prefix + "shieldpool: " + problems.size() + " configuration problem(s)" + outcome + " (exit "
                + ExitCode.CONFIG.code + ")");
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/io/shieldpool/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** picocli's --version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"shieldpool " + version(), "Vert.x 5, Java " + Runtime.version()};
        }
    }
}
