package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The example plug-ins of deploy/examples/plugin, built here with their own pom (offline Maven,
 * the build's local repository) and loaded from a plug-in directory by the packaged daemon: both
 * styles run under the shutdown guarantees, and a plug-in that cannot be had stops the start-up
 * with one clear line and exit 78.
 */
@Timeout(180)
class PluginIT {

    @TempDir
    static Path build;

    static Path pluginDirectory;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheExamplePlugin() throws Exception {
        Path source = Path.of(System.getProperty("shieldpool.examples", "../deploy/examples")).resolve("plugin");
        Path copy = build.resolve("plugin");
        copyTree(source, copy);
        Path jar = Path.of(System.getProperty("shieldpool.jar", "target/shieldpool.jar")).toAbsolutePath();
        String mavenHome = System.getProperty("shieldpool.maven.home");
        String mvn = mavenHome == null ? "mvn" : Path.of(mavenHome, "bin", "mvn").toString();
        List<String> command = new ArrayList<>(List.of(mvn, "-B", "-q", "-o", "package", "-Dshieldpool.jar=" + jar));
        String repo = System.getProperty("shieldpool.maven.repo");
        if (repo != null) {
            command.add("-Dmaven.repo.local=" + repo);
        }
        Process maven = new ProcessBuilder(command).directory(copy.toFile()).redirectErrorStream(true).start();
        String output = new String(maven.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(maven.waitFor(120, TimeUnit.SECONDS)).as("the example's build finishes").isTrue();
        assertThat(maven.exitValue()).as("mvn package of the example plug-in:\n%s", output).isZero();
        pluginDirectory = build.resolve("plugins");
        Files.createDirectories(pluginDirectory);
        Files.copy(copy.resolve("target/shieldpool-example-plugin.jar"),
                pluginDirectory.resolve("shieldpool-example-plugin.jar"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"example-async", "example-blocking"})
    void examplePluginsRunAndDrainUntornOnSigterm(String type) throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 4
                shieldpool.work.type = %s
                shieldpool.work.plugin-directory = "%s"
                shieldpool.work.%s { steps = 3, step-duration = 150ms }
                """.formatted(type, pluginDirectory, type);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            // Mid-section: some section has logged its first step and not its last.
            daemon.await(e -> e.getString("message", "").matches("(async|blocking) step 1 of 3 done"),
                    Duration.ofSeconds(10), "a first step");
            JsonObject summary = daemon.drainNow();
            assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight")).isPositive();
            assertThat(summary.getLong("failed")).as(daemon.transcript()).isZero();
            assertThat(summary.getLong("completed")).isEqualTo(summary.getLong("started"));

            // Every section did all three steps, each logged with its worker and section as numbers.
            Map<Long, Integer> stepsBySection = new HashMap<>();
            for (JsonObject e : daemon.events()) {
                if (e.getString("message", "").matches("(async|blocking) step \\d of 3 done")) {
                    assertThat(e.getValue("worker")).as("worker, a number: %s", e).isInstanceOf(Number.class);
                    assertThat(e.getString("event")).isEqualTo("plugin.log");
                    stepsBySection.merge(e.getLong("section"), 1, Integer::sum);
                }
            }
            for (JsonObject start : daemon.events("section.start")) {
                assertThat(stepsBySection.get(start.getLong("section")))
                        .as("steps of section %s", start.getLong("section")).isEqualTo(3);
            }
            // Progress reached the worker's own step count (the status's "step i of n").
            assertThat(daemon.events("section.end")).allSatisfy(end -> assertThat(end.getInteger("step")).isEqualTo(3));
        }
    }

    @Test
    void aSectionMayEndEarlyAtItsOwnSafePointOnceAStopIsRequested() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 2
                shieldpool.work.type = example-blocking
                shieldpool.work.plugin-directory = "%s"
                shieldpool.work.example-blocking { steps = 50, step-duration = 100ms, stop-early = true }
                """.formatted(pluginDirectory);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.await(e -> e.getString("message", "").equals("blocking step 2 of 50 done"), Duration.ofSeconds(10),
                    "a second step");
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("completed")).isEqualTo(summary.getLong("started")).isEqualTo(2);
            assertThat(daemon.events("section.end")).allSatisfy(end -> assertThat(end.getInteger("step")).isLessThan(50));
            assertThat(daemon.stdout()).filteredOn(line -> line.contains("stop requested: ending the section early"))
                    .hasSize(2);
        }
    }

    @Test
    void aBlockingPluginPastWorkTimeoutIsInterruptedAndTimedOut() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 2
                shieldpool.work.type = example-blocking
                shieldpool.work.timeout = 500ms
                shieldpool.work.plugin-directory = "%s"
                shieldpool.work.example-blocking { steps = 3, step-duration = 2s }
                """.formatted(pluginDirectory);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject end = daemon.awaitEvent("section.end", Duration.ofSeconds(15));
            assertThat(end.getString("outcome")).isEqualTo("timed_out");
            assertThat(end.getString("error")).isEqualTo("work.timeout of 500 ms passed");
            // Past a whole step (2 s): a section left to run after its timeout would log its first step now.
            Thread.sleep(2500);
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("timed_out")).isPositive();
            assertThat(summary.getLong("completed")).isZero();
            assertThat(daemon.stdout()).noneMatch(line -> line.contains("step 1 of 3 done"));
        }
    }

    @Test
    void aPluginWhoseConstructorThrowsStopsTheStartWithOneClearLine() throws Exception {
        String config = """
                shieldpool.work.type = example-failing
                shieldpool.work.plugin-directory = "%s"
                """.formatted(pluginDirectory);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(daemon.stderr()).as(daemon.transcript()).hasSize(2);
            assertThat(daemon.stderr().getFirst()).startsWith("shieldpool: config error: shieldpool.work.type: "
                            + "example-failing (expected: demo, exec, http, or the type of a plug-in in the classpath and "
                            + pluginDirectory + "/*.jar; found plug-ins example-async, example-blocking; broken: "
                            + "io.shieldpool.example.FailingConstructorPlugin could not be constructed: "
                            + "IllegalStateException: EXAMPLE_FAILING_PLUGIN_OK is not set: this example refuses to start) at ")
                    .endsWith(".conf:3");
            assertThat(daemon.stdout()).noneMatch(line -> line.contains("\tat ") || line.contains("Exception in"));
        }
    }

    @Test
    void aMissingPluginStopsTheStartWithOneClearLine() throws Exception {
        String config = """
                shieldpool.work.type = acme-sync
                shieldpool.work.plugin-directory = "%s"
                shieldpool.work.acme-sync.endpoint = "https://example.com"
                """.formatted(pluginDirectory);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(daemon.stderr().getFirst()).as(daemon.transcript())
                    .startsWith("shieldpool: config error: shieldpool.work.type: acme-sync (expected: demo, exec, http, "
                            + "or the type of a plug-in in the classpath and " + pluginDirectory
                            + "/*.jar; found plug-ins example-async, example-blocking;");
            assertThat(daemon.stderr().getLast()).isEqualTo("shieldpool: 1 configuration problem(s); not started (exit 78)");
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                if (d.getFileName().toString().equals("target")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(from.relativize(d)));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Files.copy(f, to.resolve(from.relativize(f)));
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
