package io.shieldpool.cli;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.view.ExitCode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code shieldpool status}: asks a running daemon's admin server for {@code /status} (address and
 * token from the same configuration the daemon reads) and prints it as a compact table. The exit
 * code says whether the pool is running, so scripts can test it. {@code --json} prints the document
 * (indented, the daemon's fields unchanged), or a JSON error object when there is none; {@code --watch} asks again every few
 * seconds and redraws the screen, as watch(1) does, until interrupted.
 */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false, versionProvider = Main.Version.class,
        description = {"Show a running daemon's pool: state, totals, drain progress and workers; with a "
                        + "PostgreSQL job store also every node of the cluster and the queue's global limits.",
                "With --json, the daemon's /status document, or when there is none a JSON object "
                        + "{\"error\": ..., \"reason\": ..., \"exit_code\": ...}. "
                        + "With --watch, the same again every few seconds on a cleared screen, until Ctrl+C."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                " 0:the pool is running",
                " 1:the daemon answered but its pool is not running (starting, draining or stopped)",
                " 3:no daemon answered at the configured admin address (or the admin server is disabled)",
                " 4:the daemon refused or gave an unexpected answer (e.g. wrong token)",
                "64:bad command line",
                "78:invalid configuration",
        })
final class StatusCommand implements Callable<Integer> {

    static final int RUNNING = 0;
    static final int NOT_RUNNING = 1;
    static final int UNREACHABLE = 3;
    static final int UNEXPECTED = 4;

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @ParentCommand
    Main parent;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "the daemon's config file, for the admin address and token "
                    + "(default: $SHIELDPOOL_CONFIG, else the embedded defaults)")
    Path configFile;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "50",
            description = "list at most N workers (default: ${DEFAULT-VALUE}; 0 for none)")
    int workers;

    @Option(names = "--json", description = "print the daemon's /status document, indented, its fields unchanged "
            + "(with --watch: one compact document per line); a JSON error object when no status came")
    boolean json;

    @Option(names = {"-w", "--watch"}, paramLabel = "SECONDS", arity = "0..1", fallbackValue = "2",
            description = "ask again every SECONDS (default when given without a value: ${FALLBACK-VALUE}), "
                    + "redrawing the screen like watch(1), until interrupted")
    Double watch;

    /** What one look at the daemon gave: its status document, or why there is none. */
    private record Answer(int exitCode, JsonObject status, String error, String reason, String url) {
        static Answer failed(int exitCode, String reason, String url, String error) {
            return new Answer(exitCode, null, error, reason, url);
        }

        JsonObject errorObject() {
            return new JsonObject().put("error", error).put("reason", reason).put("url", url).put("exit_code", exitCode);
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (workers < 0 || workers > 10_000) {
                err.println("shieldpool: --workers " + workers + " (expected: an integer from 0 to 10000)");
                return ExitCode.USAGE.code;
            }
            if (watch != null && !(watch >= 0.1 && watch <= 86_400)) {
                err.println("shieldpool: --watch " + watch + " (expected: seconds from 0.1 to 86400)");
                return ExitCode.USAGE.code;
            }
            return watch == null ? show(query(), out, err) : watch(out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int show(Answer answer, PrintWriter out, PrintWriter err) {
        JsonObject status = answer.status();
        if (status == null) {
            // why: under --watch the error is part of the screen, not a line per second on stderr;
            // config problems were printed one per line already.
            if (watch != null && !json) {
                out.println("shieldpool: " + answer.error());
            } else if (watch == null && !answer.reason().equals("config")) {
                err.println("shieldpool: " + answer.error());
            }
            status = json ? answer.errorObject() : null;
        } else if (!json) {
            print(status, out);
            return answer.exitCode();
        }
        if (status != null) {
            out.println(watch == null ? status.encodePrettily() : status.encode());
        }
        return answer.exitCode();
    }

    /** Like watch(1): clear, a heading with the interval and the time, the status; again and again. */
    private int watch(PrintWriter out, PrintWriter err) {
        long periodNanos = (long) (watch * 1e9);
        String host = hostName();
        while (true) {
            long began = System.nanoTime();
            Answer answer = query();
            if (!json) {
                out.print("\033[H\033[2J");
                out.printf("Every %ss: shieldpool status%s    %s%n%n", new java.text.DecimalFormat("0.0##",
                        java.text.DecimalFormatSymbols.getInstance(Locale.ROOT)).format(watch), host,
                        java.time.LocalTime.now().withNano(0));
            }
            show(answer, out, err);
            out.flush();
            err.flush();
            if (answer.exitCode() == ExitCode.CONFIG.code || answer.exitCode() == ExitCode.USAGE.code) {
                return answer.exitCode();
            }
            try {
                Thread.sleep(Duration.ofNanos(Math.max(0, periodNanos - (System.nanoTime() - began))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return answer.exitCode();
            }
        }
    }

    private static String hostName() {
        try {
            return " on " + java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "";
        }
    }

    private Answer query() {
        ShieldpoolConfig config;
        try {
            Optional<Path> file = configFile != null ? Optional.of(configFile) : parent.configPath();
            config = ConfigLoader.forThisProcess(io.shieldpool.kinds.WorkKinds.discover()).load(file);
        } catch (InvalidConfigException e) {
            Main.printToolProblems(e.problems());
            return Answer.failed(ExitCode.CONFIG.code, "config", null, e.problems().size()
                    + " configuration problem(s): " + e.problems().getFirst());
        }
        ShieldpoolConfig.Admin admin = config.admin();
        if (!admin.enabled()) {
            return Answer.failed(UNREACHABLE, "disabled", null,
                    "the admin server is disabled (shieldpool.admin.enabled = false): no status to ask for");
        }
        if (admin.port() == 0) {
            return Answer.failed(ExitCode.USAGE.code, "no_port", null,
                    "shieldpool.admin.port = 0 lets the daemon pick its port, so there is none to ask: "
                    + "give the one its admin.listening line names, e.g. CONFIG_FORCE_shieldpool_admin_port=N shieldpool status");
        }
        URI uri = URI.create("http://" + connectHost(admin.host()) + ":" + admin.port() + "/status?workers=" + workers);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET();
        admin.token().ifPresent(token -> request.header("Authorization", "Bearer " + token));
        String url = base(uri);
        HttpResponse<String> response;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()) {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            return Answer.failed(UNREACHABLE, "unreachable", url, "no daemon answers at " + url + " (" + reason(e)
                    + "): it is not running, or listens elsewhere (shieldpool.admin.host/port)" + storeWaitHint(config));
        } catch (HttpTimeoutException e) {
            return Answer.failed(UNREACHABLE, "timeout", url,
                    "the daemon at " + url + " did not answer within " + TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            return Answer.failed(UNREACHABLE, "unreachable", url, "cannot reach " + url + ": " + reason(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.failed(UNREACHABLE, "interrupted", url, "interrupted while asking " + url);
        }
        if (response.statusCode() == 401) {
            return Answer.failed(UNEXPECTED, "unauthorized", url, url + " refused the request (401): shieldpool.admin.token "
                    + (admin.token().isPresent() ? "does not match the daemon's" : "is not set here, but the daemon wants one"));
        }
        JsonObject status;
        try {
            status = new JsonObject(response.body());
        } catch (DecodeException e) {
            return Answer.failed(UNEXPECTED, "not_shieldpool", url, url + " answered " + response.statusCode()
                    + " with something other than a shieldpool status: is another service on that port?");
        }
        if (response.statusCode() != 200) {
            return Answer.failed(status.containsKey("state") ? NOT_RUNNING : UNEXPECTED, "http_" + response.statusCode(),
                    url, url + " answered " + response.statusCode() + ": " + status.getValue("error", "(no reason given)"));
        }
        if (!looksLikeStatus(status)) {
            return Answer.failed(UNEXPECTED, "not_shieldpool", url, url + " answered JSON that is not a shieldpool status: "
                    + "is another service on that port?");
        }
        return new Answer("running".equals(status.getString("state")) ? RUNNING : NOT_RUNNING, status, null, null, url);
    }

    /**
     * why: a daemon waiting at start for a PostgreSQL server that does not answer (or a SQLite file
     * another process keeps locked) runs but does not listen yet, so "it is not running" alone sent
     * the operator looking for a process that was there, waiting.
     */
    private static String storeWaitHint(ShieldpoolConfig config) {
        return config.jobs().store() == ShieldpoolConfig.JobStoreType.NONE ? ""
                : ", or it still waits for its job store at start (a jobs.store-waiting line in its log)";
    }

    /** The fields {@link #print} relies on, with their types. */
    static boolean looksLikeStatus(JsonObject s) {
        return s.getValue("state") instanceof String && s.getValue("pool") instanceof JsonObject
                && s.getValue("totals") instanceof JsonObject && s.getValue("pid") instanceof Number
                && (s.getValue("workers_by_state") == null || s.getValue("workers_by_state") instanceof JsonObject);
    }

    static void print(JsonObject s, PrintWriter out) {
        JsonObject pool = s.getJsonObject("pool");
        JsonObject totals = s.getJsonObject("totals");
        JsonObject byState = s.getJsonObject("workers_by_state", new JsonObject());
        out.printf("shieldpool %s   pid %d, version %s, work %s, config v%d, up %s%n", s.getString("state"),
                s.getLong("pid"), s.getString("version"), s.getString("work"), s.getLong("config_version"),
                Durations.human(s.getLong("uptime_ms")));
        StringBuilder states = new StringBuilder();
        for (String state : byState.fieldNames()) {
            int n = byState.getInteger(state);
            if (n > 0) {
                states.append(", ").append(n).append(' ').append(state);
            }
        }
        out.printf("pool       %d workers (%d desired)%s%n", pool.getInteger("actual"), pool.getInteger("desired"), states);
        out.printf("sections   %d started, %d completed, %d failed, %d timed out, %d abandoned, %d in flight; "
                        + "%d worker restarts%n",
                totals.getLong("started"), totals.getLong("completed"), totals.getLong("failed"),
                totals.getLong("timed_out", 0L), totals.getLong("abandoned"), totals.getLong("in_flight"), s.getLong("worker_restarts"));
        JsonObject drain = s.getJsonObject("drain");
        if (drain != null) {
            out.printf("drain      %s: %d section(s) left, %s of grace left, draining for %s%n", drain.getString("signal"),
                    drain.getLong("sections_left"), Durations.seconds(drain.getLong("grace_left_ms")),
                    Durations.seconds(drain.getLong("elapsed_ms")));
        }
        JsonObject jobs = s.getJsonObject("jobs");
        if (jobs != null && jobs.getJsonArray("queues") != null) {
            for (int i = 0; i < jobs.getJsonArray("queues").size(); i++) {
                JsonObject q = jobs.getJsonArray("queues").getJsonObject(i);
                Object oldest = q.getValue("oldest_ready_ms");
                out.printf("jobs       queue %s%s: %d ready, %d running, %d done, %d dead; oldest ready %s%n", q.getString("queue"),
                        q.getString("queue").equals(jobs.getString("queue")) ? " (served)" : "", q.getLong("ready"),
                        q.getLong("running"), q.getLong("done"), q.getLong("dead"),
                        oldest == null ? "-" : Durations.seconds(((Number) oldest).longValue()));
            }
        } else if (jobs != null) {
            out.printf("jobs       store not answering: %s%n", jobs.getString("error"));
        }
        if (jobs != null && jobs.getString("store_lost") != null) {
            out.printf("jobs       STORE LOST: %s%n", jobs.getString("store_lost"));
        }
        if (jobs != null && jobs.getJsonObject("cluster") != null) {
            ClusterLines.print(jobs.getJsonObject("cluster"), out);
        }
        JsonArray workers = s.getJsonArray("workers");
        if (workers.isEmpty()) {
            return;
        }
        out.println();
        out.printf("%8s  %-9s %9s %6s %9s%n", "WORKER", "STATE", "SECTION", "STEP", "ELAPSED");
        for (int i = 0; i < workers.size(); i++) {
            JsonObject w = workers.getJsonObject(i);
            boolean inSection = w.getValue("section") != null;
            Integer total = w.getInteger("steps_total");
            String step = !inSection ? "-" : (w.getInteger("steps_done") + "/" + (total == null ? "?" : total));
            out.printf("%8d  %-9s %9s %6s %9s%n", w.getLong("id"), w.getString("state"),
                    inSection ? w.getLong("section").toString() : "-", step,
                    inSection ? Durations.seconds(w.getLong("elapsed_ms")) : "-");
        }
        if (pool.getInteger("actual") > workers.size()) {
            out.printf("(%d of %d workers listed; --workers N lists more)%n", workers.size(), pool.getInteger("actual"));
        }
    }

    private static String connectHost(String host) {
        // why: a wildcard bind is reached through loopback from the same machine.
        String h = switch (host) {
            case "0.0.0.0" -> "127.0.0.1";
            case "::", "::0" -> "::1";
            default -> host;
        };
        return h.indexOf(':') >= 0 ? "[" + h + "]" : h;
    }

    private static String base(URI uri) {
        return uri.getScheme() + "://" + uri.getRawAuthority() + "/";
    }

    private static String reason(Exception e) {
        if (e instanceof ConnectException && e.getMessage() == null) {
            return "connection refused";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName().toLowerCase(Locale.ROOT) : message;
    }

    /** Durations as the table shows them. */
    static final class Durations {
        static String seconds(long millis) {
            return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
        }

        static String human(long millis) {
            long s = millis / 1000;
            if (s < 60) {
                return s + "s";
            }
            if (s < 3600) {
                return s / 60 + "m" + s % 60 + "s";
            }
            return s / 3600 + "h" + (s / 60) % 60 + "m";
        }
    }
}
