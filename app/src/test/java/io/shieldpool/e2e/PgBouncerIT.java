package io.shieldpool.e2e;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Daemons behind a real PgBouncer in transaction mode (fewer server connections than the
 * daemons' clients, so consecutive statements land on different ones): claims, acks, the
 * heartbeat and the rescue of a SIGKILLed node's jobs under its transaction-scoped advisory lock
 * all work, with jobs.postgresql.behind-pgbouncer = true. why: the daemon failed at its start
 * with "unnamed prepared statement does not exist" (26000): the client parsed a statement under
 * one Sync and bound it under the next, which PgBouncer may give to another server connection;
 * and its startup packet carried parameters PgBouncer refuses.
 */
@Timeout(180)
class PgBouncerIT {

    private static final Path PGBOUNCER = Path.of("/usr/sbin/pgbouncer");

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    @TempDir
    Path dir;

    /** A PgBouncer in transaction mode in front of the cluster, as user nobody when root; its port. */
    private Process pgbouncer(Path home, int port) throws Exception {
        Files.writeString(home.resolve("users.txt"), "\"postgres\" \"\"\n");
        Files.writeString(home.resolve("pgbouncer.ini"), String.join("\n",
                "[databases]",
                "* = host=" + pg.cluster().socketDirectory() + " port=5432",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = trust",
                "auth_file = " + home.resolve("users.txt"),
                "pool_mode = transaction",
                // why 3: fewer server connections than the two daemons' eight, so statements change connection
                "default_pool_size = 3",
                "max_client_conn = 100",
                ""), StandardCharsets.UTF_8);
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            new ProcessBuilder("chown", "-R", "nobody", home.toString()).start().waitFor();
        }
        List<String> command = root ? List.of("runuser", "-u", "nobody", "--", PGBOUNCER.toString(), home.resolve("pgbouncer.ini").toString())
                : List.of(PGBOUNCER.toString(), home.resolve("pgbouncer.ini").toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(home.resolve("pgbouncer.log").toFile()).start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < until) {
            try (var socket = new java.net.Socket("127.0.0.1", port)) {
                return process;
            } catch (java.io.IOException notYet) {
                Thread.sleep(50);
            }
        }
        process.destroyForcibly();
        throw new AssertionError("pgbouncer did not listen on " + port + ": " + Files.readString(home.resolve("pgbouncer.log")));
    }

    private static int freePort() throws Exception {
        try (ServerSocket free = new ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    @Test
    void twoDaemonsBehindPgBouncerRunEveryJobAndOneRescuesTheOthersAfterASigkill() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PGBOUNCER), "pgbouncer is not installed (.ci/run installs it): skipped");
        int jobs = 400;
        String database = pg.databaseWithJobs(dir, jobs);
        // why not under the test's directory: that is root's, 0700, and pgbouncer runs as nobody
        Path home = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-pgbouncer-");
        int port = freePort();
        Process bouncer = pgbouncer(home, port);
        Path file = dir.resolve("sections.log");
        String url = "postgresql://postgres@127.0.0.1:" + port + "/" + database;
        try {
            String common = String.join("\n", PostgresNodes.store(url), "shieldpool.jobs.postgresql.behind-pgbouncer = true",
                    "shieldpool.jobs.poll-interval = 250ms", "shieldpool.pool.size = 4");
            try (DaemonProcess a = DaemonProcess.start(dir, common + "\n" + PostgresNodes.execRecordingWork(file, "a", "0.05"));
                 DaemonProcess b = DaemonProcess.start(dir, common + "\n" + PostgresNodes.execRecordingWork(file, "b", "0.05"))) {
                a.awaitEvent("ready", Duration.ofSeconds(60));
                b.awaitEvent("ready", Duration.ofSeconds(60));
                a.awaitTrue(() -> PostgresNodes.startsBy(file, "a") >= 40, Duration.ofSeconds(60), "a's first sections");
                a.signal("KILL");
                a.awaitExit(Duration.ofSeconds(10));
                b.awaitTrue(() -> pg.count(database, "state = 'done'") == jobs, Duration.ofSeconds(90),
                        "every job done, a's by b after the rescue");
                assertThat(pg.count(database, "state <> 'done'")).as("nothing lost, nothing stuck").isZero();
                assertThat(b.events("job.recovered")).as("b rescued the jobs a held when it was killed\n%s", b.transcript())
                        .isNotEmpty();
                assertThat(b.events("jobs.store-error")).as("no statement failed through PgBouncer").isEmpty();
                assertThat(b.events("jobs.store-unreachable")).isEmpty();

                // a job runs again only after an attempt of the killed node (its section cut, or ended with its
                // ack not yet written: at-least-once); the exec child of a cut section may still write its E line
                Map<String, Integer> starts = new HashMap<>();
                Set<String> startedByA = new HashSet<>();
                for (String line : Files.readAllLines(file)) {
                    String[] l = line.trim().split(" ");
                    if (l.length >= 4 && l[0].equals("S")) {
                        starts.merge(l[1], 1, Integer::sum);
                        if (l[3].equals("a")) {
                            startedByA.add(l[1]);
                        }
                    }
                }
                assertThat(starts).as("every job began").hasSize(jobs);
                starts.forEach((job, n) -> {
                    if (n > 1) {
                        assertThat(startedByA).as("job %s ran %d times: only after an attempt by the SIGKILLed node", job, n)
                                .contains(job);
                    }
                });
                long twice = starts.values().stream().filter(n -> n > 1).count();
                PostgresNodes.terminate(b, Duration.ofSeconds(30));
                assertThat(b.stderr()).noneMatch(l -> l.contains("Exception") || l.contains("\tat "));
                System.out.printf("behind PgBouncer (transaction mode, 3 server connections): %d jobs done, %d rescued by b,"
                        + " %d run twice (after the SIGKILL)%n", jobs, b.events("job.recovered").size(), twice);
            }
        } finally {
            bouncer.destroy();
            bouncer.waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.walk(home)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
