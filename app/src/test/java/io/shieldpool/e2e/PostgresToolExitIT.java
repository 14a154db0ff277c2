package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command-line tools on a PostgreSQL store that refuses them exit as the daemon would: 78
 * for what the configuration or the database's set-up must change (systemd does not restart a
 * 78), 69 for a store that does not answer (a retry may help), each with one line naming what
 * was wrong and never a stack trace. Real launcher, real throwaway server.
 */
class PostgresToolExitIT {

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    @TempDir
    Path dir;

    private ToolRun tool(String storeLines, String... args) throws Exception {
        Path config = Files.writeString(dir.resolve("tool-" + System.nanoTime() + ".conf"), storeLines + "\n");
        return pg.tool(config, args);
    }

    private static void oneLine(ToolRun run, String... fragments) {
        assertThat(run.out().strip().lines()).as(run.out()).singleElement().asString().startsWith("shieldpool: ")
                .contains(fragments).doesNotContain("Exception", "\tat ");
    }

    @Test
    void aDatabaseThatDoesNotExistIsAConfigurationMistake() throws Exception {
        ToolRun stats = tool(PostgresNodes.store(pg.cluster().uri("no_such_db")), "jobs", "stats");
        assertThat(stats.exitCode()).as(stats.out()).isEqualTo(78);
        oneLine(stats, "no_such_db", "does not exist");
        ToolRun enqueue = tool(PostgresNodes.store(pg.cluster().uri("no_such_db")), "enqueue", "{}");
        assertThat(enqueue.exitCode()).as(enqueue.out()).isEqualTo(78);
    }

    @Test
    void aServerThatDoesNotAnswerIsUnavailable() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("no-server"));
        ToolRun stats = tool(PostgresNodes.store("postgresql://postgres@/jobs?host=" + empty), "jobs", "stats");
        assertThat(stats.exitCode()).as(stats.out()).isEqualTo(69);
        oneLine(stats, "cannot open the job store", empty.toString(), "nothing listens there: is the server running");
        ToolRun migrate = tool(PostgresNodes.store("postgresql://postgres@/jobs?host=" + empty), "jobs", "migrate");
        assertThat(migrate.exitCode()).as(migrate.out()).isEqualTo(69);
    }

    /**
     * No route to the host (ENETUNREACH: here a network namespace whose loopback is down, as in a
     * container started without a network): the line says so, not "nothing listens there". Needs
     * root and unshare(1); skipped, visibly, without them.
     */
    @Test
    void aHostWithNoRouteToItIsUnavailableAndSaysSo() throws Exception {
        boolean canUnshare = ToolRun.of(new ProcessBuilder("unshare", "-n", "true")).exitCode() == 0;
        if (!canUnshare) {
            System.err.println("SKIPPED aHostWithNoRouteToItIsUnavailableAndSaysSo: cannot make a network namespace (needs root, unshare)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(canUnshare, "unshare -n needs root");
        Path config = Files.writeString(dir.resolve("no-route.conf"), PostgresNodes.store("postgresql://postgres@127.0.0.1:5432/jobs") + "\n");
        ProcessBuilder builder = new ProcessBuilder("unshare", "-n", DaemonProcess.LAUNCHER.toString(), "jobs", "stats",
                "--config", config.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_CONFIG");
        ToolRun stats = ToolRun.of(builder);
        assertThat(stats.exitCode()).as(stats.out()).isEqualTo(69);
        oneLine(stats, "cannot open the job store", "Network is unreachable", "no route to that host from here");
    }

    /**
     * The URL's connect_timeout (libpq's, whole seconds) bounds a connect the host never answers:
     * a listener here whose accept queue is full, so the kernel drops further SYNs as a firewall
     * would. Without it the pool's 10 s wait gives up first (below); with connect_timeout=2 the tool gives up in about 2 s.
     */
    @Test
    void aHostThatDoesNotAnswerIsGivenUpOnAfterTheUrlsConnectTimeout() throws Exception {
        onAPortThatDoesNotAnswer(port -> {
            String url = "postgresql://postgres@127.0.0.1:" + port + "/jobs?connect_timeout=2";
            long begun = System.nanoTime();
            ToolRun stats = tool(PostgresNodes.store(url), "jobs", "stats");
            long tookMs = (System.nanoTime() - begun) / 1_000_000;
            assertThat(stats.exitCode()).as(stats.out()).isEqualTo(69);
            oneLine(stats, "cannot open the job store", "the host did not answer");
            // why 15 s: the tool's JVM start and its own wait of 30 s around the open; the client's default is 60 s
            assertThat(tookMs).as("given up after the URL's connect_timeout, not the client's 60 s").isLessThan(15_000);
        });
    }

    /**
     * Without connect_timeout, the pool's wait for a connection (10 s) ends first, before the
     * client's 60 s connect timeout and within the tool's own 30 s: its line says what to check.
     */
    @Test
    void aHostThatDoesNotAnswerWithoutConnectTimeoutIsGivenUpOnAfterThePoolsWaitAndSaysWhatToCheck() throws Exception {
        onAPortThatDoesNotAnswer(port -> {
            String url = "postgresql://postgres@127.0.0.1:" + port + "/jobs";
            long begun = System.nanoTime();
            ToolRun stats = tool(PostgresNodes.store(url), "jobs", "stats");
            long tookMs = (System.nanoTime() - begun) / 1_000_000;
            assertThat(stats.exitCode()).as(stats.out()).isEqualTo(69);
            oneLine(stats, "cannot open the job store", " (no connection within the pool's 10 s:"
                    + " is the host up, and does a firewall let its port through? connect_timeout in the URL bounds each connect)");
            assertThat(tookMs).as("the pool's 10 s, not the tool's 30 s or the client's 60 s").isBetween(9_000L, 28_000L);
        });
    }

    private interface OnPort {
        void run(int port) throws Exception;
    }

    /** Runs {@code test} against a listener here whose accept queue is full: the kernel drops further SYNs, as a firewall would. */
    private static void onAPortThatDoesNotAnswer(OnPort test) throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            java.util.List<java.net.Socket> queued = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 16; i++) {
                    java.net.Socket client = new java.net.Socket();
                    queued.add(client);
                    try {
                        client.connect(silent.getLocalSocketAddress(), 300);
                    } catch (java.net.SocketTimeoutException full) {
                        break; // the accept queue is full: SYNs are dropped from now on
                    }
                }
                test.run(silent.getLocalPort());
            } finally {
                for (java.net.Socket client : queued) {
                    client.close();
                }
            }
        }
    }

    @Test
    void aConnectTimeoutThatIsNotWholeSecondsIsAConfigurationMistake() throws Exception {
        ToolRun stats = tool(PostgresNodes.store(pg.cluster().uri("postgres") + "&connect_timeout=10s"), "jobs", "stats");
        assertThat(stats.exitCode()).as(stats.out()).isEqualTo(78);
        assertThat(stats.out()).contains("shieldpool: config error: shieldpool.jobs.postgresql.url:",
                "connect_timeout is whole seconds").doesNotContain("Exception", "\tat ");
    }

    @Test
    void aRoleThatMayNotCreateTheSchemaIsTold78AndWhatToGrant() throws Exception {
        String database = pg.cluster().createDatabase();
        String role = "nocreate_" + database;
        pg.cluster().psql(database, "CREATE ROLE " + role + " LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        String url = pg.cluster().uri(database).replace("postgres@", role + "@");
        ToolRun migrate = tool(PostgresNodes.store(url), "jobs", "migrate");
        assertThat(migrate.exitCode()).as(migrate.out()).isEqualTo(78);
        oneLine(migrate, "permission denied for schema public", "grant this role CREATE on the schema, or run `shieldpool jobs migrate`");
    }

    @Test
    void aSchemaNewerThanThisBuildIsRefusedWith78() throws Exception {
        String database = pg.migratedDatabase(dir);
        pg.cluster().psql(database, "INSERT INTO shieldpool_schema (version) VALUES (999)");
        ToolRun stats = tool(pg.storeOf(database), "jobs", "stats");
        assertThat(stats.exitCode()).as(stats.out()).isEqualTo(78);
        oneLine(stats, "999", "newer than this shieldpool knows");
    }
}
