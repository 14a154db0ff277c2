package io.shieldpool.e2e;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The unit file as systemd reads it: {@code systemd-analyze verify} without a warning (it exits 0
 * on most, so its output is what is checked), the exposure of {@code systemd-analyze security
 * --offline=yes} at 2.0 or lower (one unit for every systemd: no key a version here would not know), and the sysusers/tmpfiles snippets
 * applied to a scratch root. Skipped, saying so, where the tools are absent.
 */
@Timeout(120)
class SystemdUnitIT {

    static final Path SYSTEMD_DIR = Path.of(System.getProperty("shieldpool.unit", "../systemd/shieldpool.service"))
            .toAbsolutePath().getParent();
    @TempDir
    Path dir;

    @BeforeAll
    static void findSystemdAnalyze() throws Exception {
        boolean present = run(List.of("sh", "-c", "command -v systemd-analyze"), null).exitCode() == 0;
        if (!present) {
            System.err.println("SKIPPED SystemdUnitIT: systemd-analyze is not installed (apt-get install systemd)");
        }
        Assumptions.assumeTrue(present, "systemd-analyze is not installed");
    }

    /** The unit with its commands pointing at this checkout's files, so verify finds the binaries. */
    private Path unitHere() throws IOException {
        Path unit = dir.resolve("shieldpool.service");
        String text = Files.readString(SYSTEMD_DIR.resolve("shieldpool.service"))
                .replace("/usr/bin/shieldpool", DaemonProcess.LAUNCHER.toAbsolutePath().toString())
                .replace("/usr/share/shieldpool/restart-backoff", SYSTEMD_DIR.resolve("restart-backoff").toString());
        Files.writeString(unit, text);
        return unit;
    }

    @Test
    void verifyReportsNothing() throws Exception {
        ToolRun result = run(List.of("systemd-analyze", "verify", unitHere().toString()), dir);
        assertThat(result.exitCode()).as(result.out()).isZero();
        assertThat(problems(result.out())).as("systemd-analyze verify output").isEmpty();
    }

    @Test
    void securityExposureIsAtMostTwo() throws Exception {
        // --threshold is on a 0-100 scale: 20 is an exposure of 2.0.
        ToolRun result = run(List.of("systemd-analyze", "security", "--offline=yes", "--threshold=20",
                unitHere().toString()), dir);
        Matcher overall = Pattern.compile("Overall exposure level for shieldpool\\.service: (\\d+\\.\\d)").matcher(result.out());
        assertThat(overall.find()).as(result.out()).isTrue();
        assertThat(Double.parseDouble(overall.group(1))).as(result.out()).isLessThanOrEqualTo(2.0);
        assertThat(result.exitCode()).as(result.out()).isZero();
    }

    @Test
    void everyDirectiveIsCommented() throws IOException {
        List<String> lines = Files.readAllLines(SYSTEMD_DIR.resolve("shieldpool.service"));
        boolean commented = false;
        for (String line : lines) {
            if (line.startsWith("#")) {
                commented = true;
            } else if (line.isBlank() || line.startsWith("[")) {
                commented = false;
            } else {
                assertThat(commented).as("no comment above: %s", line).isTrue();
            }
        }
    }

    @Test
    void sysusersAndTmpfilesCreateTheUserAndLockTheConfig() throws Exception {
        boolean tools = run(List.of("sh", "-c", "command -v systemd-sysusers && command -v systemd-tmpfiles"), null).exitCode() == 0;
        boolean asRoot = "root".equals(System.getProperty("user.name"));
        if (!tools || !asRoot) {
            System.err.println("SKIPPED sysusers/tmpfiles check: needs systemd-sysusers, systemd-tmpfiles and root (chown)");
        }
        Assumptions.assumeTrue(tools && asRoot);
        Path scratch = Files.createDirectories(dir.resolve("root/etc/shieldpool"));
        Files.writeString(scratch.resolve("shieldpool.conf"), "");
        Path root = dir.resolve("root");
        ToolRun sysusers = run(List.of("systemd-sysusers", "--root=" + root,
                SYSTEMD_DIR.resolve("shieldpool.sysusers.conf").toString()), dir);
        assertThat(sysusers.exitCode()).as(sysusers.out()).isZero();
        String passwd = Files.readString(root.resolve("etc/passwd"));
        assertThat(passwd).containsPattern("(?m)^shieldpool:x:\\d+:\\d+:[^:]*:/:/usr/sbin/nologin$");
        int gid = Integer.parseInt(passwd.lines().filter(l -> l.startsWith("shieldpool:")).findFirst().orElseThrow()
                .split(":")[3]);
        ToolRun tmpfiles = run(List.of("systemd-tmpfiles", "--root=" + root, "--create",
                SYSTEMD_DIR.resolve("shieldpool.tmpfiles.conf").toString()), dir);
        assertThat(tmpfiles.exitCode()).as(tmpfiles.out()).isZero();
        for (String[] expected : new String[][]{{"etc/shieldpool", "rwxr-x---"}, {"etc/shieldpool/shieldpool.conf", "rw-r-----"}}) {
            Path path = root.resolve(expected[0]);
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(path)))
                    .as(expected[0]).isEqualTo(expected[1]);
            assertThat(Files.getAttribute(path, "unix:gid")).as(expected[0] + " group").isEqualTo(gid);
            assertThat(Files.getAttribute(path, "unix:uid")).as(expected[0] + " owner").isEqualTo(0);
        }
    }

    /** Output lines that are not blank: every one is a warning (verify prints nothing for a clean unit). */
    private static List<String> problems(String output) {
        return output.lines().filter(l -> !l.isBlank()).toList();
    }

    /** Runs a command, stderr merged into stdout (systemd-analyze writes its warnings there). */
    private static ToolRun run(List<String> command, Path workDir) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (workDir != null) {
            builder.directory(workDir.toFile());
        }
        builder.environment().put("SYSTEMD_COLORS", "0");
        return ToolRun.of(builder);
    }
}
