package io.shieldpool.cli;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.runtime.DurableJobs;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.shieldpool.jobs.sqlite.SqliteJobStore;
import io.shieldpool.view.ExitCode;
import io.shieldpool.logging.LogSetup;
import io.vertx.core.Future;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What the {@code enqueue} and {@code jobs} commands share: the config, and the store opened the
 * way a tool opens it: without the daemon's single-instance lock, so they work whether the daemon
 * runs or not. Their writes take SQLite's write lock for one short transaction each; their reads
 * never block the daemon (WAL readers do not block the writer).
 */
final class JobsTool {

    /** A user mistake: one line on stderr and an exit code, no stack trace. */
    static final class Failure extends RuntimeException {
        final int exitCode;

        Failure(int exitCode, String message) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }
    }

    private JobsTool() {
    }

    /** The validated config of {@code file} (else $SHIELDPOOL_CONFIG, else the defaults). */
    static ShieldpoolConfig config(Path file) {
        LogSetup.apply(new ShieldpoolConfig.Log(ShieldpoolConfig.LogLevel.ERROR, ShieldpoolConfig.LogFormat.TEXT));
        Main main = new Main();
        main.configFile = file;
        try {
            return ConfigLoader.forThisProcess(io.shieldpool.kinds.WorkKinds.discover()).load(main.configPath());
        } catch (InvalidConfigException e) {
            Main.printToolProblems(e.problems());
            throw new Failure(ExitCode.CONFIG.code, null);
        }
    }

    /** The configured store, opened as a tool. */
    static JobStore open(ShieldpoolConfig config) {
        ShieldpoolConfig.Jobs jobs = config.jobs();
        if (!jobs.enabled()) {
            throw new Failure(ExitCode.CONFIG.code, "shieldpool.jobs.store: none (expected: sqlite or postgresql, the store to use;"
                    + " set it in the config file given with --config)");
        }
        try {
            return switch (jobs.store()) {
                case POSTGRESQL -> PostgresJobStore.openForTool(PostgresSettings.of(jobs), Clock.systemUTC());
                default -> SqliteJobStore.openForTool(DurableJobs.sqliteSettings(jobs), Clock.systemUTC());
            };
        } catch (JobStoreException e) {
            throw failure(e);
        }
    }

    /**
     * A store that refused to open, as the daemon would exit: 78 for what the configuration or the
     * database's setup must change (wrong password, missing database or role, a newer schema, no
     * rights), 69 for what a retry may mend (no answer, another daemon holds the file).
     */
    static Failure failure(JobStoreException e) {
        return new Failure(e.kind() == JobStoreException.Kind.UNUSABLE ? ExitCode.CONFIG.code : ExitCode.UNAVAILABLE.code,
                e.getMessage());
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new Failure(ExitCode.UNAVAILABLE.code, "job store: " + e.getCause().getMessage());
        } catch (Exception e) {
            throw new Failure(ExitCode.UNAVAILABLE.code, "job store: " + e);
        }
    }

    static void close(JobStore store) {
        try {
            store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the process exits next; SQLite's WAL keeps every committed transaction
        }
    }

    /** A duration as the config writes them (250ms, 30s, 2m). */
    static Duration duration(String option, String text) {
        Duration duration;
        try {
            duration = com.typesafe.config.ConfigFactory.parseString("d = \"" + text.replace("\"", "") + "\"").getDuration("d");
        } catch (RuntimeException e) {
            throw new Failure(ExitCode.USAGE.code, option + ": " + text + " (expected: a duration such as 250ms, 30s or 2m)");
        }
        // why: purge-dead --older-than -1s purged every dead job, enqueue --delay -5s ran at once
        if (duration.isNegative()) {
            throw new Failure(ExitCode.USAGE.code, option + ": " + text + " (expected: a duration >= 0, such as 250ms, 30s or 2m)");
        }
        return duration;
    }

    static Optional<String> blankToEmpty(String text) {
        return text == null || text.isBlank() ? Optional.empty() : Optional.of(text);
    }

    /** Runs a command body: a {@link Failure} becomes its line on stderr and its exit code. */
    static int run(java.util.function.IntSupplier body) {
        try {
            return body.getAsInt();
        } catch (Failure f) {
            if (f.getMessage() != null) {
                System.err.println("shieldpool: " + f.getMessage());
            }
            return f.exitCode;
        }
    }
}
