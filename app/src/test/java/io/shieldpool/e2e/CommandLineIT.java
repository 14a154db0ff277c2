package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
            assertThat(err).anyMatch(l -> l.contains("shieldpool.pool.size: -1 (expected: an integer from 0 to 2000000) at " + file + ":2"));
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

    @Test
    void checkConfigOnAGoodFilePrintsTheEffectiveConfigWithOrigins() throws Exception {
        Path file = dir.resolve("good.conf");
        Files.writeString(file, "shieldpool.pool.size = 7\nshieldpool.shutdown.grace = 10s\n");
        try (DaemonProcess check = run(Map.of("CONFIG_FORCE_shieldpool_work_demo_steps", "4"), "check-config", file.toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isZero();
            List<String> out = check.stdout();
            assertThat(out).anyMatch(l -> l.matches("shieldpool\\.pool\\.size +\\= 7  # " + java.util.regex.Pattern.quote(file + ":1")));
            assertThat(out).anyMatch(l -> l.matches("shieldpool\\.work\\.demo\\.steps +\\= 4  # env variables.*"));
            assertThat(out).anyMatch(l -> l.matches("shieldpool\\.log\\.format +\\= text  # reference\\.conf:\\d+"));
            assertThat(out).anyMatch(l -> l.contains("terminationGracePeriodSeconds"));
            assertThat(out.getLast()).isEqualTo(file + ": OK");
        }
    }

    @Test
    void checkConfigTakesTheFileAsFileOrConfigOptionOrShieldpoolConfigLikeEveryOtherCommand() throws Exception {
        Path file = dir.resolve("named.conf");
        Files.writeString(file, "shieldpool.pool.size = 7\n");
        for (String[] args : List.of(new String[] {"check-config", "--config", file.toString()},
                new String[] {"check-config", "-c", file.toString()}, new String[] {"check-config", "--config=" + file},
                new String[] {"check-config", file.toString(), "--config", file.toString()})) {
            try (DaemonProcess check = run(Map.of(), args)) {
                assertThat(check.awaitExit(Duration.ofSeconds(20))).as(String.join(" ", args)).isZero();
                assertThat(check.stdout()).as(String.join(" ", args))
                        .anyMatch(l -> l.matches("shieldpool\\.pool\\.size +\\= 7  # .*named\\.conf:1"));
                assertThat(check.stdout().getLast()).isEqualTo(file + ": OK");
            }
        }
        try (DaemonProcess check = run(Map.of("SHIELDPOOL_CONFIG", file.toString()), "check-config")) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(check.stdout().getLast()).isEqualTo(file + ": OK");
        }
        // the option's file is the one checked, and the bad one is found through it
        Path bad = dir.resolve("bad.conf");
        Files.writeString(bad, "shieldpool.pool.size = -1\n");
        try (DaemonProcess check = run(Map.of("SHIELDPOOL_CONFIG", file.toString()), "check-config", "--config", bad.toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(check.stderr()).anyMatch(l -> l.contains("shieldpool.pool.size: -1") && l.contains(bad.toString()));
        }
        // two different files: one line naming both, a usage error, nothing checked
        try (DaemonProcess check = run(Map.of(), "check-config", file.toString(), "--config", bad.toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isEqualTo(64);
            assertThat(check.stderr()).hasSize(1).first().asString()
                    .contains("check-config", file.toString(), "--config " + bad, "give one");
            assertThat(check.stdout()).isEmpty();
        }
        try (DaemonProcess check = run(Map.of(), "check-config")) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isEqualTo(64);
            assertThat(check.stderr()).hasSize(1).first().asString().contains("FILE", "--config FILE", "SHIELDPOOL_CONFIG");
        }
        // --config before the command, as the daemon takes it, is the file checked (it was ignored)
        try (DaemonProcess check = run(Map.of("SHIELDPOOL_CONFIG", bad.toString()), "--config", file.toString(), "check-config")) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(check.stdout().getLast()).isEqualTo(file + ": OK");
        }
    }

    @Test
    void theJobCommandsReadTheConfigGivenBeforeTheCommand() throws Exception {
        Path file = dir.resolve("jobs.conf");
        Files.writeString(file, "shieldpool.jobs.store = sqlite\nshieldpool.jobs.sqlite.path = \"" + dir.resolve("jobs.db") + "\"\n");
        Path other = dir.resolve("other.conf");
        Files.writeString(other, "shieldpool.jobs.store = sqlite\nshieldpool.jobs.sqlite.path = \"" + dir.resolve("other.db") + "\"\n");
        // $SHIELDPOOL_CONFIG names another store: an ignored --config would enqueue into it, or purge it
        try (DaemonProcess enqueue = run(Map.of("SHIELDPOOL_CONFIG", other.toString()), "--config", file.toString(), "enqueue", "1")) {
            assertThat(enqueue.awaitExit(Duration.ofSeconds(20))).as(enqueue.stderr().toString()).isZero();
        }
        try (DaemonProcess stats = run(Map.of("SHIELDPOOL_CONFIG", other.toString()), "-c", file.toString(), "jobs", "stats", "--json")) {
            assertThat(stats.awaitExit(Duration.ofSeconds(20))).as(stats.stderr().toString()).isZero();
            assertThat(String.join("\n", stats.stdout())).containsPattern("\"ready\"\\s*:\\s*1\\b");
        }
        assertThat(dir.resolve("other.db")).doesNotExist();
        // a negative --older-than purged every dead job, a --limit below 1 listed one: both are usage errors now
        for (String[] args : List.of(new String[] {"jobs", "purge-dead", "--older-than", "-1s"},
                new String[] {"enqueue", "--delay", "-5s", "1"}, new String[] {"jobs", "list", "--limit", "0"})) {
            List<String> command = new java.util.ArrayList<>(List.of("--config", file.toString()));
            command.addAll(List.of(args));
            try (DaemonProcess tool = run(Map.of(), command.toArray(String[]::new))) {
                assertThat(tool.awaitExit(Duration.ofSeconds(20))).as(String.join(" ", args)).isEqualTo(64);
                assertThat(tool.stderr()).singleElement().asString().contains(args[args.length - (args[0].equals("enqueue") ? 2 : 1)])
                        .contains("(expected: a");
            }
        }
    }

    @Test
    void checkConfigWarnsWhenASectionOutlastsTheGrace() throws Exception {
        Path file = dir.resolve("tight.conf");
        Files.writeString(file, "shieldpool.work.demo.step-duration = 5s\nshieldpool.shutdown.grace = 10s\n");
        try (DaemonProcess check = run(Map.of(), "check-config", file.toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(check.stdout()).anyMatch(l -> l.equals("warning: a demo section takes 15s (work.demo.steps 3 x "
                    + "work.demo.step-duration 5s) but shutdown.grace is 10s: a shutdown would cut sections in flight"));
            assertThat(check.stdout().getLast()).isEqualTo(file + ": OK (1 warning(s))");
        }
    }

    @Test
    void checkConfigOnBadFilesExits78WithTheStartUpMessages() throws Exception {
        Map<String, String> cases = Map.of(
                "shieldpool.pool.size = -1", "shieldpool.pool.size: -1 (expected: an integer from 0 to 2000000) at ",
                "shieldpool.pool.sise = 1", "did you mean shieldpool.pool.size?",
                "shieldpool.shutdown.grace = soon", "shieldpool.shutdown.grace: soon (expected: a duration",
                "shieldpool { pool.size = 3", ".conf: 2: the file ends inside an unclosed '{'",
                "shieldpool.work.type = quantum", "shieldpool.work.type: quantum (expected: demo, exec, http, or the "
                        + "type of a plug-in in the classpath; found no plug-in) at ");
        int n = 0;
        for (var c : cases.entrySet()) {
            Path file = dir.resolve("bad" + n++ + ".conf");
            Files.writeString(file, c.getKey() + "\n");
            try (DaemonProcess check = run(Map.of(), "check-config", file.toString())) {
                assertThat(check.awaitExit(Duration.ofSeconds(20))).as(c.getKey()).isEqualTo(78);
                assertThat(check.stderr()).as(c.getKey()).anyMatch(l -> l.contains(c.getValue()) && l.contains(file.toString()));
                assertNoStackTrace(check);
            }
        }
        try (DaemonProcess check = run(Map.of(), "check-config", dir.resolve("absent.conf").toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
        }
    }

    @Test
    void launcherSaysClearlyWhenNoJava25IsFound() throws Exception {
        Path emptyRoot = Files.createDirectories(dir.resolve("no-jvms"));
        try (DaemonProcess launcher = run(Map.of("JAVA_HOME", dir.resolve("missing-jdk").toString(),
                "SHIELDPOOL_JVM_ROOT", emptyRoot.toString(), "PATH", "/usr/bin:/bin"), "--version")) {
            assertThat(launcher.awaitExit(Duration.ofSeconds(20))).isEqualTo(70);
            assertThat(launcher.stderr().getFirst()).isEqualTo("shieldpool: needs Java 25 or newer, and found none.");
            assertThat(launcher.stderr()).anyMatch(l -> l.contains("JAVA_HOME"));
        }
    }

    @Test
    void launcherRefusesAJarNamedButMissingRatherThanRunningAnother() throws Exception {
        Path missing = dir.resolve("nowhere/shieldpool.jar");
        try (DaemonProcess launcher = run(Map.of("SHIELDPOOL_JAR", missing.toString()), "--version")) {
            assertThat(launcher.awaitExit(Duration.ofSeconds(20))).isEqualTo(70);
            assertThat(launcher.stderr()).containsExactly("shieldpool: SHIELDPOOL_JAR=" + missing + " is not a readable file");
            assertThat(launcher.stdout()).isEmpty();
        }
    }

    @Test
    void launcherPicksTheAotCacheBesideTheJarUnlessStaleOrOverridden() throws Exception {
        Path jar = aMinuteOldCopyOfTheJar();
        Path aot = jar.resolveSibling("shieldpool.aot");

        assertThat(aotFlag(jar, Map.of())).as("no cache").isEmpty();
        // Not a real cache: the JVM says so on stderr and starts without it; stdout stays clean.
        Files.writeString(aot, "not an AOT cache");
        assertThat(aotFlag(jar, Map.of())).as("fresh cache beside the jar").contains("-XX:AOTCache=" + aot);
        assertThat(aotFlag(jar, Map.of("SHIELDPOOL_AOT_CACHE", "none"))).as("none").isEmpty();
        assertThat(aotFlag(jar, Map.of("SHIELDPOOL_AOT_CACHE", "/elsewhere/x.aot"))).as("named")
                .contains("-XX:AOTCache=/elsewhere/x.aot");
        Files.setLastModifiedTime(aot, FileTime.from(Instant.now().minusSeconds(3600)));
        assertThat(aotFlag(jar, Map.of())).as("cache older than the jar").isEmpty();
    }

    @Test
    void launcherPicksThePostgresqlTrainedCacheForAConfigNamingThePostgresqlStore() throws Exception {
        Path jar = aMinuteOldCopyOfTheJar();
        Path aot = jar.resolveSibling("shieldpool.aot");
        Path postgresqlAot = jar.resolveSibling("shieldpool-postgresql.aot");
        Files.writeString(aot, "not an AOT cache");
        Files.writeString(postgresqlAot, "not an AOT cache either");
        Path nested = Files.writeString(dir.resolve("nested.conf"),
                "shieldpool.jobs {\n  store = postgresql\n  postgresql.url = \"postgresql://u@/db\"\n}\n");
        Path sqlite = Files.writeString(dir.resolve("sqlite.conf"), "shieldpool.jobs.store = sqlite\n");

        assertThat(aotFlag(jar, Map.of(), "--config", nested.toString())).as("--config FILE").contains("-XX:AOTCache=" + postgresqlAot);
        assertThat(aotFlag(jar, Map.of(), "--config=" + nested)).as("--config=FILE").contains("-XX:AOTCache=" + postgresqlAot);
        assertThat(aotFlag(jar, Map.of("SHIELDPOOL_CONFIG", nested.toString()))).as("$SHIELDPOOL_CONFIG")
                .contains("-XX:AOTCache=" + postgresqlAot);
        assertThat(aotFlag(jar, Map.of("CONFIG_FORCE_shieldpool_jobs_store", "postgresql"), "-c", sqlite.toString()))
                .as("an environment override").contains("-XX:AOTCache=" + postgresqlAot);
        assertThat(aotFlag(jar, Map.of(), "-c", sqlite.toString())).as("another store").contains("-XX:AOTCache=" + aot);
        assertThat(aotFlag(jar, Map.of())).as("no config").contains("-XX:AOTCache=" + aot);
        Files.setLastModifiedTime(postgresqlAot, FileTime.from(Instant.now().minusSeconds(3600)));
        assertThat(aotFlag(jar, Map.of(), "--config", nested.toString())).as("the PostgreSQL cache older than the jar")
                .contains("-XX:AOTCache=" + aot);
    }

    @Test
    void launcherCompilesWithC1OnlyForAConfigNamingThePostgresqlStoreUnlessTold() throws Exception {
        Path jar = aMinuteOldCopyOfTheJar();
        Path postgresql = Files.writeString(dir.resolve("pg.conf"),
                "shieldpool.jobs {\n  store = postgresql\n  postgresql.url = \"postgresql://u@/db\"\n}\n");
        Path sqlite = Files.writeString(dir.resolve("sqlite.conf"), "shieldpool.jobs.store = sqlite\n");

        assertThat(jvmFlags(jar, Map.of(), "--config", postgresql.toString())).as("PostgreSQL store")
                .contains("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=0.300000");
        assertThat(jvmFlags(jar, Map.of("CONFIG_FORCE_shieldpool_jobs_store", "postgresql"), "-c", sqlite.toString()))
                .as("an environment override").contains("-XX:TieredStopAtLevel=1");
        assertThat(jvmFlags(jar, Map.of(), "-c", sqlite.toString())).as("another store").noneMatch(f -> f.startsWith("-XX:TieredStopAtLevel"));
        assertThat(jvmFlags(jar, Map.of())).as("no config").noneMatch(f -> f.startsWith("-XX:TieredStopAtLevel"));
        assertThat(jvmFlags(jar, Map.of("SHIELDPOOL_JAVA_OPTS", "-XX:+PrintCommandLineFlags -XX:TieredStopAtLevel=4"),
                "--config", postgresql.toString())).as("SHIELDPOOL_JAVA_OPTS wins").contains("-XX:TieredStopAtLevel=4")
                .doesNotContain("-XX:TieredStopAtLevel=1");
    }

    /** The packaged jar copied to lib/ and dated a minute back, so that a cache written now is fresher than it. */
    private Path aMinuteOldCopyOfTheJar() throws IOException {
        Path jar = Files.createDirectories(dir.resolve("lib")).resolve("shieldpool.jar");
        Files.copy(Path.of(System.getProperty("shieldpool.jar", "target/shieldpool.jar")), jar);
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        return jar;
    }

    /** The launcher's -XX:AOTCache flag for this jar, environment and arguments before --version, as the JVM reports it. */
    private Optional<String> aotFlag(Path jar, Map<String, String> env, String... args) throws Exception {
        return jvmFlags(jar, env, args).stream().filter(f -> f.startsWith("-XX:AOTCache=")).findFirst();
    }

    /** The JVM flags the launcher set for this jar, environment and arguments before --version, as the JVM reports them. */
    private List<String> jvmFlags(Path jar, Map<String, String> env, String... args) throws Exception {
        Map<String, String> all = new HashMap<>(env);
        all.put("SHIELDPOOL_JAR", jar.toString());
        all.putIfAbsent("SHIELDPOOL_JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        all.putIfAbsent("SHIELDPOOL_AOT_CACHE", "");
        List<String> command = new java.util.ArrayList<>(List.of(args));
        command.add("--version");
        try (DaemonProcess version = run(all, command.toArray(String[]::new))) {
            assertThat(version.awaitExit(Duration.ofSeconds(20))).isZero();
            // The JVM's own output (flags, a refused cache) goes to stderr: stdout is the log stream.
            assertThat(version.stdout().getFirst()).as("stdout").startsWith("shieldpool ");
            assertThat(version.stdout()).as("stdout").noneMatch(l -> l.contains("-XX:") || l.startsWith("["));
            String flags = version.stderr().stream().filter(l -> l.contains("-XX:+PrintCommandLineFlags"))
                    .findFirst().orElseThrow(() -> new AssertionError("no flags line in " + version.stderr()));
            return Arrays.asList(flags.split(" "));
        }
    }

    private static void assertNoStackTrace(DaemonProcess process) {
        assertThat(process.stderr()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
        assertThat(process.stdout()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
    }
}
