package io.shieldpool.bench;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One benchmarked process (the daemon or the baseline): when it was spawned, when each event
 * line arrived (by this process's clock, so no clock skew), its peak and current RSS from /proc,
 * and when it exited.
 */
final class BenchProcess {

    final long spawnNanos;
    final Process process;
    private final Map<String, Long> eventArrivalNanos = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> events = new ConcurrentHashMap<>();
    /** How many lines of each event arrived. */
    private final Map<String, Integer> eventCounts = new ConcurrentHashMap<>();
    private final Thread reader;
    private volatile long exitNanos;
    /** Diagnostics: JVM flags for the daemons started next, as SHIELDPOOL_JAVA_OPTS ({@code -Dbench.java-opts}; P1T sets its own); null for none. */
    static volatile String javaOpts = System.getProperty("bench.java-opts");

    BenchProcess(List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(io.shieldpool.e2e.DefaultSignals.command(command)).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_JAVA_OPTS");
        if (javaOpts != null && !javaOpts.isBlank()) {
            builder.environment().put("SHIELDPOOL_JAVA_OPTS", javaOpts);
        }
        spawnNanos = System.nanoTime();
        process = builder.start();
        reader = Thread.ofPlatform().daemon().start(this::read);
        process.onExit().thenRun(() -> exitNanos = System.nanoTime());
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                long now = System.nanoTime();
                if (!line.startsWith("{")) {
                    continue;
                }
                JsonObject event = new JsonObject(line);
                String name = event.getString("event");
                if (name == null) {
                    continue;
                }
                if (!events.containsKey(name)) {
                    events.put(name, event);
                    eventArrivalNanos.put(name, now);
                }
                eventCounts.merge(name, 1, Integer::sum);
                synchronized (this) {
                    notifyAll();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // the process ended
        }
    }

    /** Waits for the first event of this name; returns its arrival time (nanoTime). */
    synchronized long await(String event, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!eventArrivalNanos.containsKey(event)) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                throw new IllegalStateException("no " + event + " from pid " + process.pid() + " within " + timeoutMs + " ms");
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        return eventArrivalNanos.get(event);
    }

    /** Waits until {@code count} lines of this event have arrived in all. */
    synchronized void awaitCount(String event, int count, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (eventCounts.getOrDefault(event, 0) < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                throw new IllegalStateException("not " + count + " " + event + " lines from pid " + process.pid() + " within " + timeoutMs + " ms");
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    /** Lines of this event so far. */
    int count(String event) {
        return eventCounts.getOrDefault(event, 0);
    }

    JsonObject event(String name) {
        return events.get(name);
    }

    static Instant timestamp(JsonObject event) {
        return Instant.parse(event.getString("timestamp"));
    }

    void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
    }

    /** Resident set from /proc in kB ("VmHWM" peak, "VmRSS" now); -1 once the process is gone. */
    long memoryKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException gone) {
            // fall through
        }
        return -1;
    }

    /** Waits for the exit; returns the exit code. */
    int awaitExit(long timeoutMs) throws InterruptedException {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("pid " + process.pid() + " did not exit within " + timeoutMs + " ms");
        }
        while (exitNanos == 0) {
            Thread.onSpinWait();
        }
        return process.exitValue();
    }

    /** SIGTERM to every daemon first (their drains run side by side), then waits for each to exit. */
    static void stopAll(List<BenchProcess> daemons, long timeoutMs) throws IOException, InterruptedException {
        for (BenchProcess d : daemons) {
            d.signal("TERM");
        }
        for (BenchProcess d : daemons) {
            d.awaitExit(timeoutMs);
        }
    }

    long exitNanos() {
        return exitNanos;
    }
}
