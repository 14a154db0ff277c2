package io.shieldpool.e2e;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The packaged daemon, started through its launcher as a child process with JSON logs, so tests
 * can send it real signals and read its events. Each stdout line is parsed as it arrives.
 */
final class DaemonProcess implements AutoCloseable {

    static final Path LAUNCHER = Path.of(System.getProperty("shieldpool.launcher", "bin/shieldpool"));

    /** JVM flag that turns on shieldpool's own assertions. */
    static final String ASSERTIONS = "-ea:io.shieldpool...";

    private final Process process;
    private final List<JsonObject> events = new ArrayList<>();
    private final List<String> rawStdout = new ArrayList<>();
    private final List<String> stderr = new ArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;

    private DaemonProcess(Process process) {
        this.process = process;
        this.stdoutReader = Thread.ofPlatform().daemon().start(() -> pump(process.inputReader(StandardCharsets.UTF_8), true));
        this.stderrReader = Thread.ofPlatform().daemon().start(() -> pump(process.errorReader(StandardCharsets.UTF_8), false));
    }

    /**
     * Starts the daemon with {@code config} written to a file in {@code dir}, JSON logs forced on,
     * and the admin server on a free port (the {@code admin.listening} event says which), so that
     * daemons of parallel builds never collide; {@code config} may set another.
     */
    static DaemonProcess start(Path dir, String config, String... args) throws IOException {
        return start(dir, config, Map.of(), args);
    }

    static DaemonProcess start(Path dir, String config, Map<String, String> env, String... args) throws IOException {
        Path file = dir.resolve("shieldpool-" + System.nanoTime() + ".conf");
        Files.writeString(file, "shieldpool.log.format = json\nshieldpool.admin.port = 0\n" + config + "\n");
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString(), "--config", file.toString()));
        command.addAll(List.of(args));
        return launch(command, env);
    }

    /**
     * Like {@link #start(Path, String, String...)}, but the daemon leads a process group of its own
     * (started through setsid), as a shell's foreground job does: {@link #signalProcessGroup} then
     * reaches it and everything else in its group, like a terminal's Ctrl+C, and never this JVM.
     */
    static DaemonProcess startInOwnProcessGroup(Path dir, String config) throws IOException {
        Path file = dir.resolve("shieldpool-" + System.nanoTime() + ".conf");
        Files.writeString(file, "shieldpool.log.format = json\nshieldpool.admin.port = 0\n" + config + "\n");
        return launch(List.of("setsid", LAUNCHER.toString(), "--config", file.toString()), Map.of());
    }

    /** Sends {@code name} to the daemon's whole process group (see {@link #startInOwnProcessGroup}). */
    void signalProcessGroup(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, "--", "-" + process.pid()).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " -- -" + process.pid() + " failed");
        }
    }

    /** Runs the launcher with raw arguments (no config file written). */
    static DaemonProcess launch(List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(DefaultSignals.command(command));
        Map<String, String> environment = builder.environment();
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.remove("SHIELDPOOL_CONFIG");
        environment.remove("NOTIFY_SOCKET");
        environment.remove("JOURNAL_STREAM");
        environment.putAll(env);
        // why: the pool asserts its thread confinement at its entry points; test daemons run with
        // shieldpool's assertions on (only its own: the libraries' are not ours to test).
        environment.merge("SHIELDPOOL_JAVA_OPTS", ASSERTIONS, (given, ours) -> ours + " " + given);
        return new DaemonProcess(builder.start());
    }

    private void pump(BufferedReader reader, boolean isStdout) {
        try (reader) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (this) {
                    if (isStdout) {
                        rawStdout.add(line);
                        try {
                            events.add(new JsonObject(line));
                        } catch (DecodeException notJson) {
                            // text lines (e.g. before the config is applied) stay in rawStdout only
                        }
                    } else {
                        stderr.add(line);
                    }
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** CPU time the daemon's process (and any process under it) has used so far. */
    Duration cpu() {
        return Stream.concat(Stream.of(process.toHandle()), process.descendants())
                .map(h -> h.info().totalCpuDuration().orElse(Duration.ZERO))
                .reduce(Duration.ZERO, Duration::plus);
    }

    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** Waits for the first event line matching {@code match}; fails the test after {@code timeout}. */
    synchronized JsonObject await(Predicate<JsonObject> match, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int scanned = 0;
        while (true) {
            for (; scanned < events.size(); scanned++) {
                if (match.test(events.get(scanned))) {
                    return events.get(scanned);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || (!process.isAlive() && stdoutDone())) {
                throw new AssertionError("no " + what + " within " + timeout + "; output so far:\n" + transcript());
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(left, 100_000_000))));
        }
    }

    /**
     * Waits for {@code sections} ended sections, sends SIGTERM, expects a clean exit (0) and checks
     * the drain's invariants; returns the {@code shutdown.complete} event.
     */
    JsonObject drainAfterSections(int sections, Duration within) throws Exception {
        awaitTrue(() -> events("section.end").size() >= sections, within, sections + " sections");
        return drainNow();
    }

    /**
     * SIGTERM now, expect exit 0 within 20 s, and return the {@code shutdown.complete} summary
     * after checking the drain invariants (nothing torn, counts add up).
     */
    JsonObject drainNow() throws Exception {
        signal("TERM");
        int exit = awaitExit(Duration.ofSeconds(20));
        if (exit != 0) {
            throw new AssertionError("exit code " + exit + " after SIGTERM, expected 0; output:\n" + transcript());
        }
        return DrainInvariants.check(this, false);
    }

    /** Waits until {@code condition} holds, re-checking on every new line and every 50 ms. */
    synchronized void awaitTrue(java.util.function.BooleanSupplier condition, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + timeout + "; output so far:\n" + transcript());
            }
            wait(50);
        }
    }

    JsonObject awaitEvent(String event, Duration timeout) throws InterruptedException {
        return await(e -> event.equals(e.getString("event")), timeout, "event " + event);
    }

    private boolean stdoutDone() {
        return !stdoutReader.isAlive();
    }

    /** Waits for the exit and for all output to be read; returns the exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("daemon did not exit within " + timeout + "; output:\n" + transcript());
        }
        stdoutReader.join(5000);
        stderrReader.join(5000);
        return process.exitValue();
    }

    synchronized List<JsonObject> events() {
        return List.copyOf(events);
    }

    synchronized List<JsonObject> events(String event) {
        return events.stream().filter(e -> event.equals(e.getString("event"))).toList();
    }

    synchronized List<String> stderr() {
        return List.copyOf(stderr);
    }

    synchronized List<String> stdout() {
        return List.copyOf(rawStdout);
    }

    synchronized String transcript() {
        StringBuilder out = new StringBuilder();
        int from = Math.max(0, rawStdout.size() - 80);
        for (int i = from; i < rawStdout.size(); i++) {
            out.append("  out| ").append(rawStdout.get(i)).append('\n');
        }
        for (String line : stderr) {
            out.append("  err| ").append(line).append('\n');
        }
        return out.toString();
    }

    static Instant timestamp(JsonObject event) {
        return Instant.parse(event.getString("timestamp"));
    }

    /** Counts of section.end events per outcome. */
    static Map<String, Integer> outcomes(List<JsonObject> events) {
        Map<String, Integer> counts = new HashMap<>();
        for (JsonObject e : events) {
            if ("section.end".equals(e.getString("event"))) {
                counts.merge(e.getString("outcome"), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** Kills the process if still alive and keeps its whole output under target/daemon-logs for post-mortems. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        try {
            Path logs = Path.of(System.getProperty("shieldpool.logs", "target/daemon-logs"));
            Files.createDirectories(logs);
            synchronized (this) {
                List<String> all = new ArrayList<>(rawStdout);
                stderr.forEach(l -> all.add("stderr| " + l));
                Files.write(logs.resolve("daemon-" + process.pid() + ".log"), all);
            }
        } catch (IOException ignored) {
            // best effort only
        }
    }
}
