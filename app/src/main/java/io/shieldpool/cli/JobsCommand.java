package io.shieldpool.cli;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.QueueStats;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.shieldpool.view.ExitCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code shieldpool jobs ACTION}: looks at and repairs the job store, whether the daemon runs or
 * not (it opens the store itself, without the daemon's lock, and never claims).
 */
@Command(name = "jobs", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Look at and repair the job store, whether the daemon runs or not.",
                "ACTION: stats | list | show ID | retry ID | retry-dead | purge-done | purge-dead | nodes | migrate"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {" 0:done", " 1:show/retry: no such job (or not retryable)", "64:bad command line",
                "69:the store did not answer (or another daemon holds it)",
                "78:invalid configuration, jobs.store = none, or a store that refuses it (wrong password, no such",
                "   database or role, a newer schema, missing rights)"})
final class JobsCommand implements Callable<Integer> {

    // why: `shieldpool --config FILE jobs ...` must read FILE, not silently the defaults or $SHIELDPOOL_CONFIG
    @ParentCommand
    Main parent;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "config file (default: $SHIELDPOOL_CONFIG)")
    Path config;

    @Option(names = "--json", description = "print JSON instead of text")
    boolean json;

    @Option(names = "--queue", paramLabel = "Q", description = "list, retry-dead: only this queue")
    String queue;

    @Option(names = "--state", paramLabel = "S", description = "list: only jobs in this state (ready, running, done, dead)")
    String state;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "list: at most N jobs (default 50)")
    int limit;

    @Option(names = "--older-than", paramLabel = "D", description = "purge-done, purge-dead: finished longer ago than D (default: any)")
    String olderThan;

    @Parameters(index = "0", paramLabel = "ACTION")
    String action;

    @Parameters(index = "1", paramLabel = "ID", arity = "0..1")
    Long id;

    @Override
    public Integer call() {
        return JobsTool.run(this::act);
    }

    private int act() {
        List<String> actions = List.of("stats", "list", "show", "retry", "retry-dead", "purge-done", "purge-dead",
                "nodes", "migrate");
        if (!actions.contains(action)) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "jobs: " + action + " (expected: one of " + String.join(", ", actions) + ")");
        }
        if ((action.equals("show") || action.equals("retry")) && id == null) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "jobs " + action + ": missing ID (expected: a job id)");
        }
        if (limit < 1) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "--limit: " + limit + " (expected: an integer >= 1)");
        }
        Optional<JobState> stateFilter = Optional.empty();
        if (state != null) {
            try {
                stateFilter = Optional.of(JobState.of(state));
            } catch (IllegalArgumentException e) {
                throw new JobsTool.Failure(ExitCode.USAGE.code, "--state: " + state + " (expected: ready, running, done or dead)");
            }
        }
        Instant before = olderThan == null ? Instant.now().plusSeconds(1)
                : Instant.now().minus(JobsTool.duration("--older-than", olderThan));
        ShieldpoolConfig cfg = JobsTool.config(config != null ? config : parent.configFile);
        if (action.equals("migrate") && cfg.jobs().store() == ShieldpoolConfig.JobStoreType.POSTGRESQL) {
            return migrate(System.out, cfg);
        }
        JobStore store = JobsTool.open(cfg);
        PrintStream out = System.out;
        try {
            switch (action) {
                case "stats" -> printStats(out, JobsTool.await(store.stats(List.of(cfg.jobs().queue()))));
                case "list" -> printJobs(out, JobsTool.await(store.list(stateFilter, JobsTool.blankToEmpty(queue), limit)));
                case "show" -> {
                    Optional<Job> job = JobsTool.await(store.find(id));
                    if (job.isEmpty()) {
                        System.err.println("shieldpool: no job " + id);
                        return 1;
                    }
                    if (json) {
                        out.println(toJson(job.get()).encodePrettily());
                    } else {
                        printJob(out, job.get());
                    }
                }
                case "retry" -> {
                    boolean retried = JobsTool.await(store.retry(id));
                    report(out, retried ? 1 : 0, retried ? "job " + id + " ready again"
                            : "job " + id + " not retried: no such job, or it is running or done");
                    return retried ? 0 : 1;
                }
                case "retry-dead" -> {
                    int n = JobsTool.await(store.retryDead(JobsTool.blankToEmpty(queue)));
                    report(out, n, n + " dead job(s) ready again");
                }
                case "purge-done", "purge-dead" -> {
                    JobState purged = action.equals("purge-done") ? JobState.DONE : JobState.DEAD;
                    int n = JobsTool.await(store.purge(purged, before));
                    report(out, n, n + " " + purged.label() + " job(s) deleted");
                }
                case "migrate" -> report(out, 0, "schema current (the store creates and migrates its schema when opened)");
                case "nodes" -> {
                    if (!(store instanceof PostgresJobStore shared)) {
                        throw new JobsTool.Failure(ExitCode.CONFIG.code, "jobs nodes: the " + lower(cfg.jobs().store())
                                + " store has one node (expected: jobs.store = postgresql for a cluster view)");
                    }
                    printNodes(out, JobsTool.await(shared.nodes()));
                }
                default -> throw new IllegalStateException(action);
            }
        } finally {
            JobsTool.close(store);
        }
        return ExitCode.OK.code;
    }

    /** {@code jobs migrate}: creates or migrates the PostgreSQL schema, and nothing else (no node, no claims). */
    private int migrate(PrintStream out, ShieldpoolConfig cfg) {
        PostgresSettings settings = PostgresSettings.of(cfg.jobs());
        int before;
        try {
            before = PostgresJobStore.migrate(settings);
        } catch (io.shieldpool.jobs.JobStoreException e) {
            throw JobsTool.failure(e);
        }
        int now = PostgresJobStore.SCHEMA_VERSION;
        out.println(json ? new JsonObject().put("action", action).put("from", before).put("to", now).encode()
                : before == now ? settings.safeUrl() + ": schema version " + now + ", current"
                : settings.safeUrl() + ": schema migrated from version " + before + " to " + now);
        return ExitCode.OK.code;
    }

    private void printNodes(PrintStream out, List<PostgresJobStore.NodeView> nodes) {
        if (json) {
            JsonArray array = new JsonArray();
            nodes.forEach(n -> array.add(new JsonObject().put("id", n.id()).put("host", n.host()).put("pid", n.pid())
                    .put("state", n.state()).put("heartbeat_age_ms", n.heartbeatAge().toMillis()).put("in_flight", n.inFlight())));
            out.println(new JsonObject().put("nodes", array).encodePrettily());
            return;
        }
        out.printf("%-24s %-8s %-9s %14s %9s  %s%n", "HOST", "PID", "STATE", "HEARTBEAT AGE", "HELD", "NODE");
        for (PostgresJobStore.NodeView n : nodes) {
            out.printf("%-24s %-8d %-9s %11d ms %9d  %s%n", n.host(), n.pid(), n.state(), n.heartbeatAge().toMillis(),
                    n.inFlight(), n.id());
        }
    }

    private void report(PrintStream out, int count, String text) {
        out.println(json ? new JsonObject().put("action", action).put("count", count).encode() : text);
    }

    private void printStats(PrintStream out, List<QueueStats> stats) {
        if (json) {
            JsonArray queues = new JsonArray();
            for (QueueStats s : stats) {
                JsonObject q = new JsonObject().put("queue", s.queue());
                for (JobState st : JobState.values()) {
                    q.put(st.label(), s.count(st));
                }
                q.put("oldest_ready_ms", s.oldestReady().map(d -> (Object) d.toMillis()).orElse(null));
                queues.add(q);
            }
            out.println(new JsonObject().put("queues", queues).encodePrettily());
            return;
        }
        out.printf("%-20s %10s %10s %12s %10s  %s%n", "QUEUE", "READY", "RUNNING", "DONE", "DEAD", "OLDEST READY");
        for (QueueStats s : stats) {
            out.printf("%-20s %10d %10d %12d %10d  %s%n", s.queue(), s.count(JobState.READY), s.count(JobState.RUNNING),
                    s.count(JobState.DONE), s.count(JobState.DEAD),
                    s.oldestReady().map(d -> d.toMillis() + " ms").orElse("-"));
        }
    }

    private void printJobs(PrintStream out, List<Job> jobs) {
        if (json) {
            JsonArray array = new JsonArray();
            jobs.forEach(j -> array.add(toJson(j)));
            out.println(array.encodePrettily());
            return;
        }
        out.printf("%-10s %-12s %-8s %-9s %-24s %s%n", "ID", "QUEUE", "STATE", "ATTEMPT", "RUN AT", "LAST ERROR");
        for (Job j : jobs) {
            out.printf("%-10d %-12s %-8s %-9s %-24s %s%n", j.id(), j.queue(), j.state().label(),
                    j.attempt() + "/" + j.maxAttempts(), j.runAt(), j.lastError().orElse(""));
        }
    }

    private static void printJob(PrintStream out, Job j) {
        out.println("id:           " + j.id());
        out.println("queue:        " + j.queue());
        out.println("state:        " + j.state().label());
        out.println("attempt:      " + j.attempt() + " of " + j.maxAttempts());
        out.println("run at:       " + j.runAt());
        out.println("created at:   " + j.createdAt());
        out.println("finished at:  " + j.finishedAt().map(Instant::toString).orElse("-"));
        out.println("unique key:   " + j.uniqueKey().orElse("-"));
        out.println("owner:        " + j.owner().orElse("-"));
        out.println("last error:   " + j.lastError().orElse("-"));
        out.println("payload:      " + j.payload());
    }

    static JsonObject toJson(Job j) {
        return new JsonObject().put("id", j.id()).put("queue", j.queue()).put("state", j.state().label())
                .put("attempt", j.attempt()).put("max_attempts", j.maxAttempts()).put("run_at", j.runAt().toString())
                .put("created_at", j.createdAt().toString())
                .put("finished_at", j.finishedAt().map(Instant::toString).orElse(null))
                .put("unique_key", j.uniqueKey().orElse(null)).put("owner", j.owner().orElse(null))
                .put("last_error", j.lastError().orElse(null)).put("payload", j.payloadValue());
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
