package io.shieldpool.jobs.postgresql;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL 15 cluster for one test class: {@code initdb --no-sync -A trust} into a
 * fresh temp directory, the server listening only on a unix socket in that directory (no TCP
 * port, so parallel builds never collide), small (shared_buffers 16 MB, 40 connections), fsync
 * left on. Started as an unprivileged user ({@code nobody}) when the test runs as root, because
 * the server refuses to run as root. Tests may {@link #stop}, {@link #start}, {@link #restart}
 * ({@code pg_ctl restart -m fast}) and {@link #kill} it; {@link #close} stops it and deletes the
 * directory. Where the binaries are missing the test is skipped with one line saying so.
 */
public final class PostgresCluster implements AutoCloseable {

    static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final AtomicInteger databases = new AtomicInteger();

    private final Path dir;
    private final Path data;
    private final boolean asNobody;

    private PostgresCluster(Path dir, boolean asNobody) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.asNobody = asNobody;
    }

    /** A new cluster, initialised and started; skips the calling test where PostgreSQL 15 is not installed. */
    public static PostgresCluster start() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(BIN.resolve("postgres")),
                "PostgreSQL 15 is not installed (" + BIN + "/postgres missing; .ci/run installs the postgresql package): skipped");
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-pg-");
        PostgresCluster cluster = new PostgresCluster(dir, root);
        if (root) {
            cluster.run(List.of("chown", "nobody", dir.toString()), false);
        }
        cluster.run(List.of(BIN.resolve("initdb").toString(), "--no-sync", "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--locale=C", "-D", cluster.data.toString()), true);
        Files.writeString(cluster.data.resolve("postgresql.auto.conf"), String.join("\n",
                "listen_addresses = ''",
                "unix_socket_directories = '" + dir + "'",
                "shared_buffers = 16MB",
                "max_connections = 40",
                "max_wal_size = 256MB",
                "log_min_messages = warning",
                "logging_collector = off",
                "") , StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        cluster.start0();
        return cluster;
    }

    /** The socket directory: libpq's host for this cluster. */
    public Path socketDirectory() {
        return dir;
    }

    /** A libpq-style URI of database {@code database} as user postgres over the unix socket. */
    public String uri(String database) {
        return "postgresql://postgres@/" + database + "?host=" + dir;
    }

    /** A new, empty database; returns its name. */
    public String createDatabase() throws IOException, InterruptedException {
        String name = "t" + databases.incrementAndGet();
        psql("postgres", "CREATE DATABASE " + name);
        return name;
    }

    /**
     * Jobs matching {@code where} (on columns state and owner) in either table: an acked job's row
     * lives in shieldpool_jobs_done (schema 3).
     */
    public long countJobs(String database, String where) throws IOException, InterruptedException {
        return Long.parseLong(psql(database, "SELECT count(*) FROM (SELECT state, owner FROM shieldpool_jobs"
                + " UNION ALL SELECT 'done', NULL FROM shieldpool_jobs_done) AS jobs WHERE " + where));
    }

    /** Runs SQL with psql over the socket and returns its unaligned, tuples-only output. */
    public String psql(String database, String sql) throws IOException, InterruptedException {
        return run(List.of(BIN.resolve("psql").toString(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", dir.toString(),
                "-U", "postgres", "-d", database, "-c", sql), false);
    }

    void start0() throws IOException, InterruptedException {
        run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
                "-w", "-t", "30", "start"), true);
    }

    /** Starts a stopped cluster. */
    public void startAgain() throws IOException, InterruptedException {
        start0();
    }

    /** Stops the server (fast: sessions are cut, as in an operator's restart). */
    public void stop() throws IOException, InterruptedException {
        run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t", "30", "stop"), true);
    }

    /** {@code pg_ctl restart -m fast}. */
    public void restart() throws IOException, InterruptedException {
        run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
                "-m", "fast", "-w", "-t", "30", "restart"), true);
    }

    /** SIGKILLs the postmaster (its children exit on their own): a crash; {@link #startAgain} recovers. */
    public void kill() throws IOException {
        long pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).getFirst().strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** The server's log so far (for a failing test's message). */
    public String serverLog() {
        try {
            return Files.readString(dir.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"), true);
            }
        } catch (IOException | InterruptedException | IllegalStateException e) {
            // best effort: a cluster a test killed may already be gone
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory
        }
    }

    private String run(List<String> command, boolean asServerUser) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (asServerUser && asNobody) {
            full.addAll(List.of("runuser", "-u", "nobody", "--"));
        }
        full.addAll(command);
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", full) + ": no exit within 60 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", full) + ": exit " + process.exitValue() + ": " + text
                    + (Files.exists(dir.resolve("server.log")) ? "\nserver log:\n" + serverLog() : ""));
        }
        return text.strip();
    }
}
