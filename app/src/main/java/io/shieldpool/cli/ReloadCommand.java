package io.shieldpool.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.shieldpool.view.ExitCode;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.runtime.DaemonCheck;
import io.shieldpool.runtime.RuntimeDir;
import io.shieldpool.runtime.StateFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code shieldpool reload}: sends SIGHUP to the running daemon and waits until it has applied or
 * rejected its config file, which it learns from the daemon's state file in its runtime directory
 * ({@link StateFile}; no admin endpoint, token or network is involved, so it works with
 * {@code admin.enabled = false} and inside the unit's sandbox). The unit's {@code ExecReload=}, so
 * {@code systemctl reload} returns when the file is in force, and fails when it was rejected.
 */
@Command(name = "reload", mixinStandardHelpOptions = true,
        description = {"Make the running daemon reload its config file, and wait until it is applied or rejected.",
                "Exit 0 when applied, 78 when rejected (the daemon keeps the previous config), 69 when no daemon",
                "was found or it is draining, 75 when no outcome came within --timeout."})
final class ReloadCommand implements Callable<Integer> {

    /** How often the state file is looked at while waiting: a reload takes tens of ms. */
    private static final Duration POLL = Duration.ofMillis(20);
    /** How long what /proc says of a pid must stay the same before the wait ends on it (see {@link Settling}). */
    private static final Duration SETTLE = Duration.ofMillis(100);

    @Option(names = "--pid", paramLabel = "PID",
            description = "the daemon's process id (the unit passes $MAINPID); default: the one daemon found")
    Long pid;

    @Option(names = "--runtime-dir", paramLabel = "DIR",
            description = "where the daemon keeps its state file (default: $RUNTIME_DIRECTORY or $SHIELDPOOL_RUNTIME_DIR "
                    + "when set, and only there; else /run/shieldpool, $XDG_RUNTIME_DIR/shieldpool, then the "
                    + "temporary directory's shieldpool-$USER)")
    Path runtimeDir;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "how long to wait for the outcome (default: ${DEFAULT-VALUE})")
    String timeout;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintStream err = System.err;
        Duration limit;
        try {
            // why: the config file's duration syntax (30s, 2m, 500ms), from the same parser.
            limit = ConfigFactory.empty().withValue("timeout", ConfigValueFactory.fromAnyRef(timeout)).getDuration("timeout");
        } catch (ConfigException e) {
            err.println(LogSetup.errorPrefix() + "shieldpool reload: --timeout " + timeout + ": " + e.getMessage());
            return ExitCode.USAGE.code;
        }
        // why: a limit of 0 or less sent the SIGHUP and gave up at once, "no outcome" (exit 75)
        if (!limit.isPositive()) {
            err.println(LogSetup.errorPrefix() + "shieldpool reload: --timeout " + timeout
                    + " (expected: a duration > 0, such as 30s or 2m)");
            return ExitCode.USAGE.code;
        }
        List<Path> dirs = runtimeDir != null ? List.of(runtimeDir) : RuntimeDir.forClient(System.getenv());
        long deadline = System.nanoTime() + limit.toNanos();
        Optional<Path> file = pid != null ? awaitFileOf(pid, dirs, deadline) : theOneDaemon(dirs, err);
        if (file.isEmpty()) {
            return ExitCode.UNAVAILABLE.code;
        }
        Optional<StateFile> found = StateFile.read(file.get());
        if (found.isEmpty()) {
            // why: the daemon can exit (and remove its file) between finding the file and reading it;
            // orElseThrow() printed "internal error" with a stack trace for it
            err.println(LogSetup.errorPrefix() + "shieldpool reload: the daemon's state file " + file.get()
                    + " went away as it was read: the daemon exited");
            return ExitCode.UNAVAILABLE.code;
        }
        StateFile before = found.get();
        if (!before.state().equals("running") && !before.state().equals("starting")) {
            err.println(LogSetup.errorPrefix() + "shieldpool reload: the daemon (pid " + before.pid() + ") is " + before.state()
                    + ": a reload would change nothing now");
            return ExitCode.UNAVAILABLE.code;
        }
        DaemonCheck check = check(new ProcessIdentity());
        Optional<String> refused = ProcessSignal.sendIf(before.pid(), ProcessSignal.SIGHUP,
                () -> check.of(before) == DaemonCheck.Verdict.LIVE,
                "it is no longer the daemon that wrote " + file.get() + " (that one exited, and the pid is another process's); "
                        + "no signal sent");
        if (refused.isPresent()) {
            err.println(LogSetup.errorPrefix() + "shieldpool reload: cannot signal pid " + before.pid() + ": " + refused.get());
            return ExitCode.UNAVAILABLE.code;
        }
        // why reloadsBegan: reloads run one after another, so once more have ended than had begun
        // when the file was read, one that began after it has ended; that one read the config file
        // after it was edited (the edit came before this command), whichever SIGHUP started it. One
        // in progress at the read may have read the old file: its outcome is not ours to report.
        while (System.nanoTime() < deadline) {
            Optional<StateFile> now = StateFile.read(file.get());
            if (now.isEmpty() || !ProcessSignal.alive(before.pid())) {
                err.println(LogSetup.errorPrefix() + "shieldpool reload: the daemon (pid " + before.pid() + ") exited during the reload");
                return ExitCode.UNAVAILABLE.code;
            }
            StateFile state = now.get();
            if (state.reloadsEnded() > before.reloadsBegan()) {
                return outcome(state);
            }
            if (state.state().equals("draining") || state.state().equals("stopped")) {
                err.println(LogSetup.errorPrefix() + "shieldpool reload: the daemon (pid " + state.pid()
                        + ") began to drain: the reload was not applied");
                return ExitCode.UNAVAILABLE.code;
            }
            Thread.sleep(POLL);
        }
        err.println(LogSetup.errorPrefix() + "shieldpool reload: no outcome from pid " + before.pid() + " within " + timeout
                + " (is it stalled? see its log)");
        return ExitCode.DRAIN_CUT.code;
    }

    private static int outcome(StateFile state) {
        switch (state.lastReload()) {
            case "applied" -> {
                System.out.println("shieldpool reload: applied (config version " + state.configVersion() + "): "
                        + state.lastReloadSummary());
                return ExitCode.OK.code;
            }
            case "rejected" -> {
                System.err.println(LogSetup.errorPrefix() + "shieldpool reload: rejected, the daemon keeps running on the previous "
                        + "config (version " + state.configVersion() + "): " + state.lastReloadSummary());
                return ExitCode.CONFIG.code;
            }
            default -> {
                System.err.println(LogSetup.errorPrefix() + "shieldpool reload: not applied (" + state.lastReload() + "): "
                        + state.lastReloadSummary());
                return ExitCode.UNAVAILABLE.code;
            }
        }
    }

    /**
     * The state file of {@code pid}, waiting for it while the daemon starts (it appears within ms of
     * its config being read). A pid that is no shieldpool daemon, or one that writes its file where
     * this does not look, will never give one: said at once ({@link ProcessIdentity}). why: a wrong
     * --pid (1, a shell's, another JVM's) waited the whole --timeout, 30 s by default, before saying so.
     */
    private Optional<Path> awaitFileOf(long pid, List<Path> dirs, long deadline) throws InterruptedException {
        ProcessIdentity identities = new ProcessIdentity();
        Settling<ProcessIdentity.Identity> seen = new Settling<>(SETTLE);
        DaemonCheck check = check(identities);
        while (true) {
            Optional<Path> staleFile = Optional.empty();
            Optional<StateFile> stale = Optional.empty();
            for (Path dir : dirs) {
                Path file = StateFile.path(dir, pid);
                try {
                    Optional<StateFile> state = StateFile.read(file);
                    if (state.isPresent()) {
                        DaemonCheck.Verdict verdict = check.of(state.get());
                        if (verdict == DaemonCheck.Verdict.LIVE) {
                            return Optional.of(file);
                        }
                        if (verdict == DaemonCheck.Verdict.STALE) {
                            staleFile = Optional.of(file);
                            stale = state;
                        }
                    }
                } catch (IOException e) {
                    // unreadable: try the next place
                }
            }
            Optional<String> unsignalled = ProcessSignal.send(pid, 0);
            if (unsignalled.filter(ProcessSignal.NO_SUCH_PROCESS::equals).isPresent()) {
                return failed("no process with pid " + pid);
            }
            ProcessIdentity.Identity identity = identities.of(pid);
            boolean settled = seen.settled(identity, System.nanoTime());
            String owner = ProcessHandle.of(pid).flatMap(p -> p.info().user()).map(user -> " (user " + user + ")").orElse("");
            // why not while a daemon: a new daemon under the reused pid is starting, and replaces the file with its own
            if (stale.isPresent() && identity.kind() != ProcessIdentity.Kind.DAEMON && settled) {
                StateFile.removeIfUnchanged(staleFile.get(), stale.get());
                return failed("the state file of pid " + pid + ", " + staleFile.get() + ", is stale: the daemon that wrote it "
                        + "is gone, and the process now there is '" + commandOf(pid, identity) + "'" + owner + "; no signal sent");
            }
            switch (identity.kind()) {
                case OTHER -> {
                    if (settled) {
                        return failed("pid " + pid + " is '" + identity.command() + "'" + owner + ", not a shieldpool daemon ("
                                + identity.why() + "); no " + StateFile.path(Path.of(""), pid) + " in " + dirs + " either");
                    }
                }
                case DAEMON -> {
                    Optional<Path> elsewhere = identity.stateDir().filter(dir -> !among(dirs, dir));
                    if (elsewhere.isPresent() && settled) {
                        return failed("pid " + pid + " is a shieldpool daemon ('" + identity.command() + "')" + owner
                                + " that keeps its state file in " + elsewhere.get() + ", not in " + dirs
                                + ": pass --runtime-dir " + elsewhere.get());
                    }
                }
                case UNKNOWN -> {
                    // /proc hides it (the unit's sandbox): wait, as for a daemon
                }
            }
            if (unsignalled.isPresent() && settled) {
                // why at once: no state file could help, the SIGHUP itself would be refused
                return failed("cannot signal pid " + pid + owner + ": " + unsignalled.get() + "; looked for its "
                        + StateFile.path(Path.of(""), pid) + " in " + dirs);
            }
            if (System.nanoTime() >= deadline) {
                return failed(identity.kind() == ProcessIdentity.Kind.DAEMON
                        ? "pid " + pid + " is a shieldpool daemon ('" + identity.command() + "')" + owner + ", but wrote no state file in "
                        + dirs + " within " + timeout + ": it keeps it in another directory (pass it with --runtime-dir), "
                        + "or is stuck starting (see its log)"
                        : "pid " + pid + " wrote no state file in " + dirs + " within " + timeout
                        + " (not a shieldpool daemon, or it uses another directory: --runtime-dir)");
            }
            Thread.sleep(POLL);
        }
    }

    /**
     * The CLI's rule for a state file: its pid runs with the start time the daemon wrote, or, in a
     * file of an older daemon that wrote none, /proc/PID/cmdline does not show something else.
     * why kill(pid, 0) for "runs": inside the unit's sandbox /proc hides the daemon (see {@link ProcessSignal#alive}).
     */
    private static DaemonCheck check(ProcessIdentity identities) {
        return new DaemonCheck(ProcessSignal::alive, pid -> identities.of(pid).kind() == ProcessIdentity.Kind.OTHER);
    }

    private static String commandOf(long pid, ProcessIdentity.Identity identity) {
        if (!identity.command().isEmpty()) {
            return identity.command();
        }
        return ProcessHandle.of(pid).flatMap(p -> p.info().commandLine().or(() -> p.info().command())).orElse("unknown");
    }

    private static Optional<Path> failed(String why) {
        System.err.println(LogSetup.errorPrefix() + "shieldpool reload: " + why);
        return Optional.empty();
    }

    /** Whether {@code dir} is one of {@code dirs}, however either is spelled (symbolic links, "..", relative). */
    private static boolean among(List<Path> dirs, Path dir) {
        Path wanted = canonical(dir);
        return dirs.stream().map(ReloadCommand::canonical).anyMatch(wanted::equals);
    }

    private static Path canonical(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize();
        }
    }

    private static Optional<Path> theOneDaemon(List<Path> dirs, PrintStream err) {
        List<StateFile> found = new ArrayList<>();
        Set<Path> where = new LinkedHashSet<>();
        DaemonCheck check = check(new ProcessIdentity());
        List<Long> stale = new ArrayList<>();
        for (Path dir : dirs) {
            List<StateFile> here = StateFile.live(dir, check, file -> stale.add(file.pid()));
            if (!here.isEmpty()) {
                where.add(dir);
            }
            found.addAll(here);
        }
        if (found.size() == 1) {
            return Optional.of(StateFile.path(where.iterator().next(), found.getFirst().pid()));
        }
        if (found.isEmpty()) {
            err.println(LogSetup.errorPrefix() + "shieldpool reload: no running shieldpool daemon found (looked in " + dirs + ")"
                    + (stale.isEmpty() ? "" : "; ignored the stale state file(s) of pid(s) " + stale.stream().sorted().toList()
                    + ": their daemons are gone and other processes have the pids now"));
        } else {
            err.println(LogSetup.errorPrefix() + "shieldpool reload: " + found.size() + " daemons run (pids "
                    + found.stream().map(StateFile::pid).sorted().toList() + ", their state files in " + where
                    + "): choose one with --pid PID");
        }
        return Optional.empty();
    }
}
