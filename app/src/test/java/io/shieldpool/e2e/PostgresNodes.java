package io.shieldpool.e2e;

import io.shieldpool.jobs.postgresql.PostgresCluster;
import io.shieldpool.jobs.postgresql.ThrowawayPostgres;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The set-up every end-to-end test of daemons on PostgreSQL shares, as a JUnit 5 extension
 * ({@code @RegisterExtension static final PostgresNodes pg = new PostgresNodes();}): one
 * throwaway cluster per test class ({@link ThrowawayPostgres}), the {@link RecordingPlugin}
 * packed into a plug-in directory, databases prepared through the real command line ({@code jobs
 * migrate}, {@code enqueue}), and the lines of a node's config: its store, and sections that
 * record themselves ({@code S|E job attempt node epoch-nanos}, read by {@link SectionIntervals}).
 */
final class PostgresNodes implements BeforeAllCallback, AfterAllCallback {

    private final ThrowawayPostgres pg = new ThrowawayPostgres();
    private Path plugins;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        pg.beforeAll(context);
        plugins = RecordingPlugin.pack(Files.createTempDirectory("shieldpool-plugins-"));
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        pg.afterAll(context);
        if (plugins != null) {
            try (Stream<Path> files = Files.walk(plugins)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    PostgresCluster cluster() {
        return pg.cluster();
    }

    /** A new empty database with the schema migrated by {@code shieldpool jobs migrate}; its name. */
    String migratedDatabase(Path dir) throws Exception {
        String database = cluster().createDatabase();
        ToolRun migrate = tool(toolConfig(dir, database), "jobs", "migrate");
        assertThat(migrate.exitCode()).as(migrate.out()).isZero();
        assertThat(migrate.out()).contains("schema migrated from version 0 to "
                + io.shieldpool.jobs.postgresql.PostgresJobStore.SCHEMA_VERSION);
        return database;
    }

    /** A new database holding {@code jobs} ready jobs ({"n": i}), enqueued by {@code shieldpool enqueue}; its name. */
    String databaseWithJobs(Path dir, int jobs) throws Exception {
        String database = cluster().createDatabase();
        enqueue(dir, database, jobs);
        return database;
    }

    /** Enqueues {@code jobs} jobs ({"n": i}) with {@code shieldpool enqueue --quiet -}. */
    void enqueue(Path dir, String database, int jobs) throws Exception {
        Path payloads = dir.resolve("payloads-" + database + ".jsonl");
        Files.write(payloads, IntStream.range(0, jobs).mapToObj(i -> "{\"n\":" + i + "}").toList());
        ProcessBuilder builder = new ProcessBuilder(DaemonProcess.LAUNCHER.toString(), "enqueue", "--quiet",
                "--config", toolConfig(dir, database).toString(), "-").redirectInput(payloads.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        ToolRun run = ToolRun.of(builder);
        assertThat(run.exitCode()).as(run.out()).isZero();
    }

    /** A config file holding only the store's lines, for the command-line tools. */
    Path toolConfig(Path dir, String database) throws IOException {
        Path file = dir.resolve("tool-" + database + ".conf");
        Files.writeString(file, store(cluster().uri(database)) + "\n");
        return file;
    }

    /** Runs the launcher with {@code args} and {@code --config config}, to its end. */
    ToolRun tool(Path config, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--config", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_CONFIG");
        return ToolRun.of(builder);
    }

    /** A node's store lines: the PostgreSQL store at {@code url}. */
    static String store(String url) {
        return "shieldpool.jobs.store = postgresql\nshieldpool.jobs.postgresql.url = \"" + url + "\"";
    }

    /** A node's store lines for {@code database} of this cluster. */
    String storeOf(String database) {
        return store(cluster().uri(database));
    }

    /** Work lines: {@link RecordingPlugin} sections of {@code duration} recording into {@code file} as {@code node}. */
    String recordingWork(Path file, String node, Duration duration) {
        return String.join("\n",
                "shieldpool.work.type = test-recording",
                "shieldpool.work.plugin-directory = \"" + plugins + "\"",
                "shieldpool.work.test-recording { file = \"" + file + "\", node = \"" + node + "\", duration = "
                        + duration.toMillis() + "ms }");
    }

    /**
     * Work lines: exec sections (a shell) that sleep {@code seconds} between their S and E lines in
     * {@code file}, as {@code node}: where a section must be a real child process.
     */
    static String execRecordingWork(Path file, String node, String seconds) {
        return execRecording(file, node, "sleep " + seconds);
    }

    /**
     * Work lines: exec sections as {@link #execRecordingWork} that run until the file {@code release}
     * exists, for a test that ends them when it has seen what it looks for rather than after a
     * length guessed long enough for a loaded machine. At most ~60 s: a failed test leaves no shell
     * behind for long.
     */
    static String execRecordingWorkHeldUntil(Path file, String node, Path release) {
        return execRecording(file, node,
                "n=0; until [ -e " + release + " ] || [ $n -ge 1200 ]; do sleep 0.05; n=$((n+1)); done");
    }

    private static String execRecording(Path file, String node, String between) {
        String line = " $SHIELDPOOL_JOB_ID $SHIELDPOOL_JOB_ATTEMPT $NODE $(date +%s%N) >> " + file;
        return String.join("\n",
                "shieldpool.work.type = exec",
                "shieldpool.work.exec.command = [\"/bin/sh\", \"-c\", \"echo S" + line + "; " + between + "; echo E" + line + "\"]",
                "shieldpool.work.exec.environment { NODE = \"" + node + "\" }");
    }

    /** Jobs of {@code database} matching {@code where} (on state and owner) in either table; -1 when psql fails. */
    long count(String database, String where) {
        try {
            return cluster().countJobs(database, where);
        } catch (Exception e) {
            return -1;
        }
    }

    boolean allDone(String database, int jobs) {
        return count(database, "state = 'done'") == jobs;
    }

    /** Section starts recorded in {@code file} by {@code node}. */
    static long startsBy(Path file, String node) {
        try {
            return SectionIntervals.read(List.of(file)).all().stream().filter(i -> i.node().equals(node)).count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** SIGTERM: a clean stop within {@code within} (exit 0, one shutdown.complete). */
    static void terminate(DaemonProcess daemon, Duration within) throws Exception {
        daemon.signal("TERM");
        assertThat(daemon.awaitExit(within)).as("exit after SIGTERM\n%s", daemon.transcript()).isZero();
        assertThat(daemon.events("shutdown.complete")).hasSize(1);
    }
}
