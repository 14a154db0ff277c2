package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Values that used to crash the daemon, be truncated or pass unbounded, through the packaged
 * launcher: check-config and start-up exit 78 with the same one line (key, value, expectation,
 * file:line), and a SIGHUP with them is rejected while the daemon goes on with its old config.
 */
@Timeout(180)
class BadConfigIT {

    /** What is written (line 2 of the file) and the start of the one line it must produce. */
    private static final Map<String, String> CASES = new LinkedHashMap<>();

    static {
        CASES.put("shieldpool.shutdown.grace = null", "shieldpool.shutdown.grace: null (expected: a duration");
        CASES.put("shieldpool.pool.size = null", "shieldpool.pool.size: null (expected: an integer from 0 to 2000000)");
        CASES.put("shieldpool.work.type = null", "shieldpool.work.type: null (expected: demo, exec, http");
        CASES.put("shieldpool.log.level = null", "shieldpool.log.level: null (expected: one of debug, error, info, trace, warn)");
        CASES.put("shieldpool.work.demo.step-duration = 1000000000d",
                "shieldpool.work.demo.step-duration: 1000000000d (expected: a duration such as 250ms, 30s or 2m (0 allowed), at most 365d)");
        CASES.put("shieldpool.work.demo.steps = 2.5", "shieldpool.work.demo.steps: 2.5 (expected: an integer >= 1)");
        CASES.put("shieldpool.pool.size = 3.7", "shieldpool.pool.size: 3.7 (expected: an integer from 0 to 2000000)");
        CASES.put("shieldpool.admin.port = 0.9", "shieldpool.admin.port: 0.9 (expected: an integer from 0 to 65535)");
        CASES.put("shieldpool.pool.size = 2147483647", "shieldpool.pool.size: 2147483647 (expected: an integer from 0 to 2000000)");
        CASES.put("shieldpool.pool.event-loops = 100000", "shieldpool.pool.event-loops: 100000 (expected: an integer from 0 to ");
    }

    @TempDir
    Path dir;

    private DaemonProcess run(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString()));
        command.addAll(List.of(args));
        return DaemonProcess.launch(command, env);
    }

    private Path write(String name, String content) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    private static void assertOneCleanProblem(DaemonProcess process, String expected, String where) {
        List<String> problems = process.stderr().stream().filter(l -> l.contains("config error: ")).toList();
        assertThat(problems).as(process.transcript()).singleElement().asString().contains(expected).endsWith(" at " + where);
        assertThat(process.stderr()).noneMatch(l -> l.startsWith("\tat ") || l.matches(".*\\b[a-z]+\\.[a-z.]+\\.[A-Z]\\w*(Exception|Error)\\b.*"));
        assertThat(process.stdout()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
    }

    @Test
    void checkConfigExits78WithOneLinePerBadValue() throws Exception {
        int n = 0;
        for (var c : CASES.entrySet()) {
            Path file = write("check" + n++ + ".conf", "# bad value below\n" + c.getKey() + "\n");
            try (DaemonProcess check = run(Map.of(), "check-config", file.toString())) {
                assertThat(check.awaitExit(Duration.ofSeconds(30))).as(c.getKey()).isEqualTo(78);
                assertOneCleanProblem(check, c.getValue(), file + ":2");
            }
        }
    }

    @Test
    void startUpExits78WithTheSameLine() throws Exception {
        int n = 0;
        for (String written : List.of("shieldpool.shutdown.grace = null", "shieldpool.work.demo.step-duration = 1000000000d",
                "shieldpool.pool.size = 3.7", "shieldpool.pool.size = 2147483647")) {
            Path file = write("start" + n++ + ".conf", "shieldpool.admin.port = 0\n" + written + "\n");
            try (DaemonProcess daemon = run(Map.of(), "--config", file.toString())) {
                assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(written).isEqualTo(78);
                assertOneCleanProblem(daemon, CASES.get(written), file + ":2");
            }
        }
    }

    @Test
    void includeAndSyntaxErrorsNameNoJavaClass() throws Exception {
        Files.createDirectory(dir.resolve("conf.d"));
        Map<String, String> cases = Map.of(
                "include required(\"absent.conf\")", ":2: include required(\"absent.conf\"): no such file " + dir.resolve("absent.conf"),
                "include required(\"conf.d\")", ":2: include required(\"conf.d\"): " + dir.resolve("conf.d") + " is a directory",
                "shieldpool { pool { size = 3 }", ": 3: the file ends inside an unclosed '{'");
        int n = 0;
        for (var c : cases.entrySet()) {
            Path file = write("syntax" + n++ + ".conf", "shieldpool.admin.port = 0\n" + c.getKey() + "\n");
            for (String[] args : List.of(new String[] {"check-config", file.toString()}, new String[] {"--config", file.toString()})) {
                try (DaemonProcess process = run(Map.of(), args)) {
                    assertThat(process.awaitExit(Duration.ofSeconds(30))).as(c.getKey()).isEqualTo(78);
                    assertThat(process.stderr()).as(process.transcript()).anyMatch(l -> l.contains(file + c.getValue()));
                    assertThat(process.stderr()).noneMatch(l -> l.contains("Exception") || l.contains("parentheses"));
                }
            }
        }
    }

    @Test
    void aListKeyFromTheEnvironmentIsParsedAsAList() throws Exception {
        Path file = write("exec.conf", "shieldpool.work.type = exec\n");
        try (DaemonProcess check = run(Map.of("CONFIG_FORCE_shieldpool_work_exec_command", "[\"/bin/echo\",\"x\"]"),
                "check-config", file.toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(30))).isEqualTo(0);
            assertThat(check.stdout()).anyMatch(l -> l.matches("shieldpool\\.work\\.exec\\.command +=  ?\\[\"/bin/echo\",\"x\"\\].*"));
        }
        try (DaemonProcess check = run(Map.of("CONFIG_FORCE_shieldpool_work_exec_command", "/bin/echo x"),
                "check-config", file.toString())) {
            assertThat(check.awaitExit(Duration.ofSeconds(30))).isEqualTo(78);
            assertThat(check.stderr()).anyMatch(l -> l.contains("CONFIG_FORCE_shieldpool_work_exec_command='[\"/bin/echo\",\"x\"]'"));
        }
    }

    /**
     * A password file in a directory the user may not enter (root's 0700 directory, check-config run as
     * nobody): Files.exists is false there as for a missing file, and the line said "there is no such
     * file", sending the operator to look for a typo in a path that is right.
     */
    @Test
    void aPasswordFileInADirectoryTheUserMayNotEnterIsNotCalledMissing() throws Exception {
        Assumptions.assumeTrue(System.getProperty("user.name").equals("root"), "needs root, to run the command as nobody");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path closed = Files.createDirectory(dir.resolve("closed"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        Path secret = Files.writeString(closed.resolve("pgpass"), "secret\n");
        Path file = write("closed.conf", "shieldpool.jobs { store = postgresql, postgresql.url = \"postgresql://app@db.example/jobs\" }\n"
                + "shieldpool.jobs.postgresql.password-file = \"" + secret + "\"\n");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        ProcessBuilder builder = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                DaemonProcess.LAUNCHER.toString(), "check-config", file.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("JOURNAL_STREAM");
        ToolRun check = ToolRun.of(builder);
        assertThat(check.exitCode()).as(check.out()).isEqualTo(78);
        assertThat(check.out()).contains("shieldpool.jobs.postgresql.password-file: " + secret + " (expected: a readable file",
                "permission denied: a directory on its path may not be entered (this process runs as nobody)) at " + file + ":2")
                .doesNotContain("there is no such file");
    }

    /** Replaces {@code file} with {@code content} atomically, as editors do, and sends SIGHUP. */
    private void rewriteAndReload(DaemonProcess daemon, Path file, String content) throws Exception {
        Path next = write(file.getFileName() + ".next", content);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        daemon.signal("HUP");
    }

    /** After rejected reloads: sections go on under the old config, and SIGTERM still stops the daemon cleanly. */
    private static void goesOnThenStops(DaemonProcess daemon) throws Exception {
        int ends = daemon.events("section.end").size();
        daemon.awaitTrue(() -> daemon.events("section.end").size() > ends + 4, Duration.ofSeconds(20),
                "sections on the old config after the rejected reload");
        daemon.signal("TERM");
        assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isEqualTo(0);
    }

    @Test
    void aReloadWithBadValuesIsRejectedAndTheDaemonGoesOn() throws Exception {
        String base = """
                shieldpool.log.format = json
                shieldpool.log.level = debug
                shieldpool.admin.port = 0
                shieldpool.work.demo.steps = 2
                shieldpool.work.demo.step-duration = 50ms
                shieldpool.work.demo.log-steps = false
                shieldpool.pool.size = 2
                """;
        Path file = write("live.conf", base);
        try (DaemonProcess daemon = run(Map.of(), "--config", file.toString())) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            int rejections = 0;
            for (String written : List.of("shieldpool.shutdown.grace = null", "shieldpool.work.demo.step-duration = 1000000000d",
                    "shieldpool.pool.size = 2147483647", "shieldpool.work.demo.steps = 2.5", "shieldpool.pool.event-loops = 100000")) {
                rewriteAndReload(daemon, file, base + written + "\n");
                int seen = ++rejections;
                daemon.awaitTrue(() -> daemon.events("reload.failed").size() >= seen, Duration.ofSeconds(20),
                        "reload.failed for " + written);
                JsonObject failure = daemon.events("reload.failed").getLast();
                assertThat(failure.getString("problem")).as(written).startsWith(CASES.get(written)).endsWith(" at " + file + ":8");
            }
            assertThat(daemon.events("reload.failed")).hasSize(rejections);
            assertThat(daemon.events("reload.complete")).isEmpty();
            assertThat(daemon.events("pool.resize")).isEmpty();
            goesOnThenStops(daemon);
            assertThat(daemon.stdout()).noneMatch(l -> l.contains("Exception"));
        }
    }

    @Test
    void aReloadToAPoolTheHeapCannotHoldIsRejectedAndTheDaemonGoesOn() throws Exception {
        String base = """
                shieldpool.log.format = json
                shieldpool.log.level = debug
                shieldpool.admin.port = 0
                shieldpool.work.demo.step-duration = 50ms
                shieldpool.work.demo.log-steps = false
                """;
        Path file = write("heap.conf", base + "shieldpool.pool.size = 2\n");
        try (DaemonProcess daemon = run(Map.of("SHIELDPOOL_JAVA_OPTS", "-Xmx64m"), "--config", file.toString())) {
            daemon.awaitEvent("ready", Duration.ofSeconds(30));
            rewriteAndReload(daemon, file, base + "shieldpool.pool.size = 2000000\n");
            JsonObject failure = daemon.awaitEvent("reload.failed", Duration.ofSeconds(20));
            assertThat(failure.getString("problem")).startsWith("shieldpool.pool.size: 2000000 (expected: a pool size whose "
                    + "workers fit the heap: 1999998 more workers need ~305 MB").endsWith(" at " + file + ":6");
            assertThat(daemon.events("pool.resize")).isEmpty();
            goesOnThenStops(daemon);
        }
    }

    /** As root every file is readable: the check runs as nobody (as the packaged unit's user would be refused). */
    @Test
    void anUnreadableFileOrIncludeIsPermissionDeniedWithoutAClassName() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to become nobody");
        Path shared = Files.createDirectories(Path.of("/tmp").resolve("shieldpool-unreadable-" + ProcessHandle.current().pid()));
        try {
            Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path secret = Files.writeString(shared.resolve("secret.conf"), "shieldpool.pool.size = 1\n");
            Files.setPosixFilePermissions(secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            Path main = Files.writeString(shared.resolve("main.conf"), "shieldpool.pool.size = 2\ninclude required(\"secret.conf\")\n");
            Files.setPosixFilePermissions(main, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            Map<Path, String> expected = Map.of(
                    secret, secret + ": cannot read the config file: permission denied (the daemon runs as nobody)",
                    main, main + ":2: include required(\"secret.conf\"): cannot read " + secret + ": permission denied");
            for (var c : expected.entrySet()) {
                try (DaemonProcess check = DaemonProcess.launch(List.of("runuser", "-u", "nobody", "--",
                        DaemonProcess.LAUNCHER.toAbsolutePath().toString(), "check-config", c.getKey().toString()), Map.of())) {
                    assertThat(check.awaitExit(Duration.ofSeconds(30))).as(check.transcript()).isEqualTo(78);
                    assertThat(check.stderr()).as(check.transcript()).contains("shieldpool: config error: " + c.getValue());
                    assertThat(check.stderr()).noneMatch(l -> l.contains("Exception"));
                }
            }
        } finally {
            try (var files = Files.list(shared)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(shared);
        }
    }
}
