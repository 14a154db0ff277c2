package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A SQLite store the daemon's user may not write, against the packaged daemon: refused at the
 * start in one line naming the file, its owner and mode, and the user (exit 78). SQLite opened
 * such a file read-only without a word, and the daemon said ready, then failed every claim.
 * Permissions do not bind root, so as root the daemon runs as {@code nobody}.
 */
@Timeout(120)
class SqliteAccessIT {

    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    @TempDir
    Path dir;

    @Test
    void aStoreFileTheDaemonMayNotWriteIsRefusedAtTheStartNamingFileOwnerModeAndUser() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path config = dir.resolve("jobs.conf");
        Files.writeString(config, """
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.admin.enabled = false
                """.formatted(db));
        assertThat(run(false, "enqueue", "--config", config.toString(), "1").exitCode()).isZero();
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r--r--"));
        if (ROOT) {
            // the others must reach the file and create the daemon's -wal, -shm and .lock files beside it
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        } else {
            Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("r--r--r--"));
        }
        String user = ROOT ? "nobody" : System.getProperty("user.name");

        ToolRun daemon = run(true, "--config", config.toString());

        assertThat(daemon.exitCode()).as(daemon.out()).isEqualTo(78);
        assertThat(daemon.out()).doesNotContain("event=ready").doesNotContain("\tat ")
                .contains("cannot open the job store " + db + ": " + db + " (owner ")
                .contains("is not readable and writable by user " + user);
    }

    @Test
    void aSigtermWhileAnotherProcessHoldsTheFilesLockEndsTheStartAtOnceWithExit0() throws Exception {
        Path db = dir.resolve("jobs.db");
        // a sqlite3 shell's open transaction, as the operator's: BEGIN EXCLUSIVE, then nothing
        try (var holder = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db); var s = holder.createStatement()) {
            s.execute("BEGIN EXCLUSIVE");
            try (DaemonProcess daemon = DaemonProcess.start(dir, """
                    shieldpool.jobs.store = sqlite
                    shieldpool.jobs.sqlite.path = "%s"
                    """.formatted(db))) {
                daemon.awaitEvent("config", java.time.Duration.ofSeconds(30));
                var waiting = daemon.awaitEvent("jobs.store-waiting", java.time.Duration.ofSeconds(5));
                assertThat(waiting.getString("level")).isEqualTo("WARN");
                assertThat(waiting.getString("path")).isEqualTo(db.toString());
                assertThat(waiting.getString("message")).contains(db + " is locked by another process", "waiting up to 10000 ms");
                Thread.sleep(500);
                daemon.signal("TERM");
                long signalled = System.nanoTime();

                int exit = daemon.awaitExit(java.time.Duration.ofSeconds(20));

                assertThat(exit).as(daemon.transcript()).isZero();
                assertThat(java.time.Duration.ofNanos(System.nanoTime() - signalled))
                        .as("not the 10 s busy timeout").isLessThan(java.time.Duration.ofSeconds(3));
                assertThat(daemon.events("start.stopped")).singleElement()
                        .satisfies(e -> assertThat(e.getString("signal")).isEqualTo("SIGTERM"));
                assertThat(daemon.events("jobs.failed")).isEmpty();
            }
            s.execute("ROLLBACK");
        }
    }

    private ToolRun run(boolean asDaemonUser, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        if (asDaemonUser && ROOT) {
            command.addAll(List.of("runuser", "-u", "nobody", "--"));
        }
        command.add(DaemonProcess.LAUNCHER.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_CONFIG");
        return ToolRun.of(builder);
    }
}
