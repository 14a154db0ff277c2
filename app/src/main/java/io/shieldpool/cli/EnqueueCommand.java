package io.shieldpool.cli;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.Enqueued;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.view.ExitCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code shieldpool enqueue}: adds jobs to the store the config names, whether the daemon runs or
 * not. One payload as an argument, or {@code -}: one JSON payload per line from stdin, committed
 * in batches of {@link #BATCH} (one transaction each). A running daemon notices the commit and
 * claims at once.
 */
@Command(name = "enqueue", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Add jobs to the job store (shieldpool.jobs.store), whether the daemon runs or not.",
                "Prints each job's id (\"ID exists\" when its unique key was taken), or a count with --quiet."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {" 0:enqueued (or already there, by unique key)", "64:bad command line or payload",
                "69:the store did not answer or could not be written",
                "78:invalid configuration, jobs.store = none, or a store that refuses it (wrong password, no such",
                "   database or role, a newer schema, missing rights)"})
final class EnqueueCommand implements Callable<Integer> {

    /** Lines of stdin committed per transaction. */
    static final int BATCH = 1_000;

    // why: `shieldpool --config FILE enqueue ...` must read FILE, not silently the defaults or $SHIELDPOOL_CONFIG
    @ParentCommand
    Main parent;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "config file (default: $SHIELDPOOL_CONFIG)")
    Path config;

    @Option(names = "--queue", paramLabel = "Q", description = "queue (default: shieldpool.jobs.queue)")
    String queue;

    @Option(names = "--key", paramLabel = "K", description = "unique key: a no-op when a kept job has it (one payload only)")
    String key;

    @Option(names = "--max-attempts", paramLabel = "N", description = "attempts allowed (default: shieldpool.jobs.max-attempts)")
    Integer maxAttempts;

    @Option(names = "--delay", paramLabel = "D", description = "run no sooner than this from now (250ms, 30s, 2m)")
    String delay;

    @Option(names = {"-q", "--quiet"}, description = "print only the count")
    boolean quiet;

    @Parameters(index = "0", paramLabel = "PAYLOAD|-", description = "a JSON payload, or - for one per line on stdin")
    String payload;

    @Override
    public Integer call() {
        return JobsTool.run(this::enqueue);
    }

    private int enqueue() {
        if (key != null && key.isBlank()) {
            // why: POST /jobs refuses an empty key (400); here it meant "no key" without a word
            throw new JobsTool.Failure(ExitCode.USAGE.code, "--key: \"" + key + "\" (expected: a non-empty key, or no --key)");
        }
        ShieldpoolConfig config = JobsTool.config(this.config != null ? this.config : parent.configFile);
        String q = queue == null ? config.jobs().queue() : queue;
        int attempts = maxAttempts == null ? config.jobs().maxAttempts() : maxAttempts;
        Duration wait = delay == null ? Duration.ZERO : JobsTool.duration("--delay", delay);
        if (q.isBlank()) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "--queue: \"" + q + "\" (expected: a non-empty name)");
        }
        if (wait.isNegative() || wait.compareTo(NewJob.MAX_DELAY) > 0) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "--delay: " + delay + " (expected: a duration from 0 to 365d)");
        }
        if (attempts < 1) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "--max-attempts: " + attempts + " (expected: an integer >= 1)");
        }
        boolean bulk = payload.equals("-");
        if (bulk && key != null) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "--key: " + key + " (expected: with one payload, not with -)");
        }
        if (!bulk) {
            check(payload, "the payload");
        }
        JobStore store = JobsTool.open(config);
        PrintStream out = System.out;
        long created = 0;
        long existing = 0;
        try {
            if (!bulk) {
                Enqueued e = JobsTool.await(store.enqueue(List.of(newJob(q, payload, attempts, wait, Optional.ofNullable(key)))))
                        .getFirst();
                created += e.created() ? 1 : 0;
                existing += e.created() ? 0 : 1;
                if (!quiet) {
                    out.println(e.created() ? Long.toString(e.id()) : e.id() + " exists (unique key " + key + ")");
                }
            } else {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
                List<NewJob> batch = new ArrayList<>(BATCH);
                StringBuilder ids = new StringBuilder();
                long lineNumber = 0;
                String line;
                while ((line = in.readLine()) != null) {
                    lineNumber++;
                    if (line.isBlank()) {
                        continue;
                    }
                    check(line, "stdin line " + lineNumber + " (" + (created + existing + batch.size())
                            + " earlier job(s) " + (created + existing > 0 ? "enqueued" : "not enqueued") + ")");
                    batch.add(newJob(q, line, attempts, wait, Optional.empty()));
                    if (batch.size() == BATCH) {
                        long[] counts = flush(store, batch, ids, out);
                        created += counts[0];
                        existing += counts[1];
                    }
                }
                long[] counts = flush(store, batch, ids, out);
                created += counts[0];
                existing += counts[1];
            }
        } catch (IOException e) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, "reading stdin: " + e.getMessage());
        } finally {
            out.flush();
            JobsTool.close(store);
        }
        if (quiet) {
            out.println(created + " enqueued" + (existing > 0 ? ", " + existing + " already there" : ""));
        }
        return ExitCode.OK.code;
    }

    private long[] flush(JobStore store, List<NewJob> batch, StringBuilder ids, PrintStream out) {
        if (batch.isEmpty()) {
            return new long[2];
        }
        List<Enqueued> results = JobsTool.await(store.enqueue(batch));
        batch.clear();
        long created = 0;
        for (Enqueued e : results) {
            created += e.created() ? 1 : 0;
            if (!quiet) {
                ids.append(e.id()).append('\n');
            }
        }
        if (!quiet) {
            out.print(ids);
            ids.setLength(0);
        }
        return new long[]{created, results.size() - created};
    }

    private static NewJob newJob(String queue, String payload, int attempts, Duration wait, Optional<String> key) {
        return new NewJob(queue, payload, attempts, Instant.now().plus(wait), key);
    }

    private static void check(String payload, String where) {
        try {
            io.vertx.core.json.Json.decodeValue(payload);
        } catch (RuntimeException e) {
            throw new JobsTool.Failure(ExitCode.USAGE.code, where + ": " + shown(payload)
                    + " (expected: a JSON value, such as {\"id\": 42})");
        }
    }

    /** Most characters of a bad payload an error line shows. */
    static final int SHOWN_MAX = 80;

    /**
     * {@code text} fit for one error line on a terminal: control, format (bidi overrides),
     * unassigned and replacement characters (what undecodable bytes became) as {@code \\uXXXX},
     * cut to {@link #SHOWN_MAX} characters. why: binary on stdin was echoed raw, escape sequences
     * and all, into the operator's terminal and the journal.
     */
    static String shown(String text) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < text.length() && b.length() <= SHOWN_MAX) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int type = Character.getType(cp);
            if (Character.isISOControl(cp) || type == Character.FORMAT || type == Character.UNASSIGNED
                    || type == Character.SURROGATE || type == Character.PRIVATE_USE || cp == 0xFFFD) {
                b.append(cp > 0xFFFF ? String.format("\\U%08x", cp) : String.format("\\u%04x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        }
        if (b.length() > SHOWN_MAX || i < text.length()) {
            b.setLength(Math.min(b.length(), SHOWN_MAX - 3));
            b.append("...");
        }
        return b.toString();
    }
}
