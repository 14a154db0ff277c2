package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher and the command line, as an operator meets them. */
@Timeout(60)
class CommandLineIT {

    @TempDir
    Path dir;

    private DaemonProcess run(Map<String, String> env, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString()));
        command.addAll(List.of(args));
        return DaemonProcess.launch(command, env);
    }

    @Test
    void helpAndVersion() throws Exception {
        try (DaemonProcess help = run(Map.of(), "--help")) {
            assertThat(help.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(String.join("\n", help.stdout())).contains("Usage: shieldpool", "--config", "Exit codes", "78");
        }
        try (DaemonProcess version = run(Map.of(), "--version")) {
            assertThat(version.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(version.stdout().getFirst()).startsWith("shieldpool ");
        }
    }

    @Test
    void unknownOptionIsAUsageError() throws Exception {
        try (DaemonProcess bad = run(Map.of(), "--frobnicate")) {
            assertThat(bad.awaitExit(Duration.ofSeconds(20))).isEqualTo(64);
            assertThat(bad.stderr()).anyMatch(l -> l.contains("--frobnicate"));
        }
    }

    @Test
    void missingConfigFileIsAConfigError() throws Exception {
        Path missing = dir.resolve("nope.conf");
        try (DaemonProcess bad = run(Map.of(), "--config", missing.toString())) {
            assertThat(bad.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(bad.stderr()).anyMatch(l -> l.contains(missing.toString()) && l.contains("no such file"));
            assertNoStackTrace(bad);
        }
    }

    @Test
    void eachKindOfBadInputIsOneLineNamingKeyValueExpectationAndPlace() throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, """
                shieldpool {
                  pool.size = -1
                  pool.sise = 4
                  work.demo.step-duration = 3 parsecs
                  work.demo.failure-probability = 2
                  log.format = xml
                }
                """);
        try (DaemonProcess bad = run(Map.of(), "--config", file.toString())) {
            assertThat(bad.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            List<String> err = bad.stderr();
            assertThat(err).anyMatch(l -> l.contains("shieldpool.pool.size: -1 (expected: an integer >= 0) at " + file + ":2"));
            assertThat(err).anyMatch(l -> l.contains("shieldpool.pool.sise: 4") && l.contains("did you mean shieldpool.pool.size?")
                    && l.contains(file + ":3"));
            assertThat(err).anyMatch(l -> l.contains("shieldpool.work.demo.step-duration: \"3 parsecs\"") && l.contains(":4"));
            assertThat(err).anyMatch(l -> l.contains("shieldpool.work.demo.failure-probability: 2") && l.contains("0.0 to 1.0"));
            assertThat(err).anyMatch(l -> l.contains("shieldpool.log.format: xml (expected: one of json, text)"));
            assertNoStackTrace(bad);
        }
    }

    @Test
    void malformedHoconIsOneLineWithFileAndLine() throws Exception {
        Path file = dir.resolve("broken.conf");
        Files.writeString(file, "shieldpool {\n  pool.size = 3\n");
        try (DaemonProcess bad = run(Map.of(), "--config", file.toString())) {
            assertThat(bad.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(bad.stderr()).anyMatch(l -> l.contains(file.toString()) && l.contains("3"));
            assertNoStackTrace(bad);
        }
    }

    @Test
    void environmentOverridesAreValidatedAndNamed() throws Exception {
        try (DaemonProcess bad = run(Map.of("CONFIG_FORCE_shieldpool_pool_size", "many"))) {
            assertThat(bad.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(bad.stderr()).anyMatch(l -> l.contains("shieldpool.pool.size: many") && l.contains("env"));
        }
    }

    @Test
    void configFileFromTheEnvironmentVariable() throws Exception {
        Path file = dir.resolve("env.conf");
        Files.writeString(file, "shieldpool.pool.size = -5\n");
        try (DaemonProcess bad = run(Map.of("SHIELDPOOL_CONFIG", file.toString()))) {
            assertThat(bad.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(bad.stderr()).anyMatch(l -> l.contains("shieldpool.pool.size: -5") && l.contains(file.toString()));
        }
    }

    private static void assertNoStackTrace(DaemonProcess process) {
        assertThat(process.stderr()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
        assertThat(process.stdout()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
    }
}
