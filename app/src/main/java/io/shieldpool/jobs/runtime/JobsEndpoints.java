package io.shieldpool.jobs.runtime;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.QueueStats;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The jobs part of the admin server (token-protected like /status), its metrics and its part of
 * the status:
 * <ul>
 *   <li>{@code POST /jobs}: enqueue one job ({@code {"payload": ..., "queue": "q", "key": "k",
 *       "max_attempts": n, "delay_ms": d}}) or many ({@code {"jobs": [ ... ]}}), all in one
 *       transaction; answers 201 with {@code {"jobs": [{"id": 17, "created": true}, ...]}} once
 *       committed (durable). A bare JSON array is taken as that many payloads.</li>
 *   <li>{@code GET /jobs/stats}: counts per queue and state, the oldest ready job's age, and this
 *       daemon's counters since start.</li>
 * </ul>
 */
public final class JobsEndpoints {

    /** Most jobs one POST may carry: one transaction must stay short. */
    static final int MAX_JOBS_PER_REQUEST = 10_000;
    /** The fields of one job in a POST /jobs body. */
    static final List<String> JOB_FIELDS = List.of("payload", "queue", "key", "max_attempts", "delay_ms");
    /** Largest POST body accepted. */
    static final long MAX_BODY_BYTES = 16L << 20;

    private final DurableJobs jobs;
    private final Map<String, QueueStats> latest = new ConcurrentHashMap<>();

    public JobsEndpoints(DurableJobs jobs) {
        this.jobs = jobs;
    }

    /** Whether this handles {@code path}. */
    public static boolean handles(String path) {
        return path.equals("/jobs") || path.equals("/jobs/stats");
    }

    /** Answers a request for one of {@link #handles} paths (already authorized). On the admin context. */
    public void handle(HttpServerRequest request) {
        if (request.path().equals("/jobs/stats")) {
            if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
                refuseMethod(request, "GET, HEAD");
                return;
            }
            stats().onComplete(ar -> {
                if (ar.failed()) {
                    send(request, 503, new JsonObject().put("error", "job store: " + ar.cause().getMessage()));
                } else {
                    send(request, 200, ar.result());
                }
            });
            return;
        }
        if (request.method() != HttpMethod.POST) {
            refuseMethod(request, "POST");
            return;
        }
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > MAX_BODY_BYTES) {
            send(request, 413, new JsonObject().put("error", "body over " + MAX_BODY_BYTES + " bytes"));
            return;
        }
        request.body().onComplete(ar -> {
            if (ar.failed()) {
                send(request, 400, new JsonObject().put("error", "cannot read the body: " + ar.cause().getMessage()));
                return;
            }
            List<NewJob> parsed;
            try {
                parsed = parse(ar.result());
            } catch (IllegalArgumentException e) {
                send(request, 400, new JsonObject().put("error", e.getMessage()));
                return;
            }
            jobs.store().enqueue(parsed).onComplete(done -> {
                if (done.failed()) {
                    send(request, 503, new JsonObject().put("error", "job store: " + done.cause().getMessage()));
                    return;
                }
                JsonArray results = new JsonArray();
                done.result().forEach(e -> results.add(new JsonObject().put("id", e.id()).put("created", e.created())));
                send(request, 201, new JsonObject().put("jobs", results));
            });
        });
    }

    List<NewJob> parse(Buffer body) {
        Object value;
        try {
            value = Json.decodeValue(body);
        } catch (DecodeException e) {
            if (nestedTooDeeply(e)) {
                throw new IllegalArgumentException("body: nested too deeply (expected: at most "
                        + com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_DEPTH + " levels of arrays and objects)");
            }
            throw new IllegalArgumentException("body: not JSON (expected: {\"payload\": ...} or {\"jobs\": [...]})");
        }
        List<String> texts = PayloadTexts.of(body.getBytes());
        List<NewJob> parsed = new ArrayList<>();
        if (value instanceof JsonArray payloads) {
            for (Object payload : payloads) {
                parsed.add(newJob(new JsonObject().put("payload", payload), texts.get(parsed.size()), "[" + parsed.size() + "]"));
            }
        } else if (value instanceof JsonObject object && object.getValue("jobs") instanceof JsonArray many) {
            for (String field : object.fieldNames()) {
                if (!field.equals("jobs")) {
                    throw new IllegalArgumentException("body." + field + ": " + Json.encode(object.getValue(field))
                            + " (expected: only \"jobs\" beside a list of jobs; each job's fields go in it)");
                }
            }
            for (Object one : many) {
                if (!(one instanceof JsonObject job)) {
                    throw new IllegalArgumentException("jobs[" + parsed.size() + "]: " + Json.encode(one)
                            + " (expected: an object such as {\"payload\": {...}})");
                }
                parsed.add(newJob(job, texts.get(parsed.size()), "jobs[" + parsed.size() + "]"));
            }
        } else if (value instanceof JsonObject object) {
            parsed.add(newJob(object, texts.isEmpty() ? null : texts.getFirst(), "body"));
        } else {
            throw new IllegalArgumentException("body: " + Json.encode(value)
                    + " (expected: {\"payload\": ...}, {\"jobs\": [...]} or an array of payloads)");
        }
        if (parsed.isEmpty() || parsed.size() > MAX_JOBS_PER_REQUEST) {
            throw new IllegalArgumentException("jobs: " + parsed.size() + " (expected: 1 to " + MAX_JOBS_PER_REQUEST + " per request)");
        }
        return parsed;
    }

    /** Whether the parser gave up on the body's depth (Jackson's limit), not on its syntax. */
    private static boolean nestedTooDeeply(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException
                    || String.valueOf(t.getMessage()).contains("nesting depth")) {
                return true;
            }
        }
        return false;
    }

    /** @param payloadText the payload as the body wrote it (null when it has none) */
    private NewJob newJob(JsonObject job, String payloadText, String where) {
        for (String field : job.fieldNames()) {
            // why: a misspelt field ("qeueu", "run_at") ignored would enqueue a job other than the one meant
            if (!JOB_FIELDS.contains(field)) {
                throw new IllegalArgumentException(where + "." + field + ": " + Json.encode(job.getValue(field))
                        + " (expected: one of the fields " + String.join(", ", JOB_FIELDS) + ")");
            }
        }
        if (!job.containsKey("payload")) {
            throw new IllegalArgumentException(where + ".payload: (missing) (expected: the job's payload, any JSON value)");
        }
        String queue = stringField(job, "queue", where).orElse(jobs.queue());
        Optional<String> key = stringField(job, "key", where);
        int maxAttempts = jobs.maxAttempts();
        if (job.containsKey("max_attempts")) {
            if (!(job.getValue("max_attempts") instanceof Number n) || n.intValue() < 1 || n.doubleValue() != n.intValue()) {
                throw new IllegalArgumentException(where + ".max_attempts: " + Json.encode(job.getValue("max_attempts"))
                        + " (expected: an integer >= 1)");
            }
            maxAttempts = n.intValue();
        }
        long delayMs = 0;
        if (job.containsKey("delay_ms")) {
            if (!(job.getValue("delay_ms") instanceof Number n) || n.longValue() < 0
                    || n.longValue() > NewJob.MAX_DELAY.toMillis() || n.doubleValue() != n.longValue()) {
                throw new IllegalArgumentException(where + ".delay_ms: " + Json.encode(job.getValue("delay_ms"))
                        + " (expected: whole milliseconds from 0 to " + NewJob.MAX_DELAY.toMillis() + ", 365 days)");
            }
            delayMs = n.longValue();
        }
        try {
            return new NewJob(queue, payloadText, maxAttempts,
                    Instant.now().plusMillis(delayMs), key);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + "." + e.getMessage());
        }
    }

    private static Optional<String> stringField(JsonObject job, String field, String where) {
        Object value = job.getValue(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(where + "." + field + ": " + Json.encode(value) + " (expected: a non-empty string)");
        }
        return Optional.of(text);
    }

    /** Why the job store takes no more jobs though it answers (an embedded store's file removed), if so. */
    public Optional<String> storeLost() {
        return jobs.store().lost();
    }

    /** Whether the job store answers (false during a shared store's outage). */
    public boolean storeReachable() {
        return jobs.store().reachable();
    }

    /** The store's counts (refreshing what the metrics show) and this daemon's counters. */
    public Future<JsonObject> stats() {
        return jobs.store().stats(List.of(jobs.queue())).map(all -> {
            JsonArray queues = new JsonArray();
            for (QueueStats s : all) {
                latest.put(s.queue(), s);
                JsonObject q = new JsonObject().put("queue", s.queue());
                for (JobState state : JobState.values()) {
                    q.put(state.label(), s.count(state));
                }
                q.put("oldest_ready_ms", s.oldestReady().map(d -> (Object) d.toMillis()).orElse(null));
                queues.add(q);
            }
            JobCounters c = jobs.counters();
            JsonObject counters = new JsonObject().put("claimed", c.claimed.sum()).put("done", c.done.sum())
                    .put("failed", c.failed.sum()).put("dead", c.dead.sum()).put("released", c.released.sum())
                    .put("recovered", c.recovered.sum()).put("fenced", c.fenced.sum())
                    .put("store_errors", c.storeErrors.sum()).put("buffered", jobs.buffered())
                    .put("claim_latency_ms", mean(c.claimNanos, c.claims)).put("ack_latency_ms", mean(c.ackNanos, c.acks));
            return new JsonObject().put("store", jobs.storeName()).put("queue", jobs.queue()).put("queues", queues)
                    .put("this_daemon", counters).put("store_reachable", jobs.store().reachable())
                    .put("store_lost", storeLost().orElse(null));
        }).compose(body -> jobs.store() instanceof io.shieldpool.jobs.postgresql.PostgresJobStore shared
                ? cluster(shared).map(view -> body.put("cluster", view)).otherwise(body) : Future.succeededFuture(body));
    }

    /**
     * The cluster view of a shared store: every node (this one marked), how many are in each
     * state, and the queue's global limits with their use.
     */
    private Future<JsonObject> cluster(io.shieldpool.jobs.postgresql.PostgresJobStore shared) {
        return shared.nodes().compose(nodes -> shared.limitsOf(jobs.queue()).map(limits -> {
            JsonArray list = new JsonArray();
            Map<String, Integer> byState = new LinkedHashMap<>();
            for (String state : List.of("running", "draining", "stopped", "dead")) {
                byState.put(state, 0);
            }
            for (var n : nodes) {
                byState.merge(n.state(), 1, Integer::sum);
                list.add(new JsonObject().put("id", n.id()).put("host", n.host()).put("pid", n.pid()).put("state", n.state())
                        .put("heartbeat_age_ms", n.heartbeatAge().toMillis()).put("ttl_ms", n.ttl().toMillis())
                        .put("up_ms", n.up().toMillis()).put("in_flight", n.inFlight())
                        .put("this_daemon", n.id().equals(shared.owner().id())));
            }
            JsonObject view = new JsonObject().put("nodes_by_state", new JsonObject(new LinkedHashMap<>(byState)))
                    .put("nodes", list);
            limits.ifPresent(l -> view.put("limits", new JsonObject().put("queue", l.queue()).put("concurrency", l.concurrency())
                    .put("running", l.running()).put("by_slots", l.bySlots()).put("rate", l.rate()).put("burst", l.burst())
                    .put("tokens", Math.floor(l.tokens() * 100) / 100)));
            return view;
        }));
    }

    private static double mean(LongAdder nanos, LongAdder count) {
        long n = count.sum();
        return n == 0 ? 0 : Math.round(nanos.sum() / (double) n / 10_000.0) / 100.0;
    }

    /** Registers the jobs meters; the per-state gauges show the counts of the last {@link #stats()}. */
    public void bindTo(MeterRegistry registry) {
        String queue = jobs.queue();
        for (JobState state : JobState.values()) {
            Gauge.builder("shieldpool.jobs", latest, m -> Optional.ofNullable(m.get(queue)).map(s -> (double) s.count(state)).orElse(0.0))
                    .description("Jobs in the store, by queue and state (as of the last scrape)")
                    .tag("queue", queue).tag("state", state.label()).register(registry);
        }
        Gauge.builder("shieldpool.jobs.oldest.ready", latest, m -> Optional.ofNullable(m.get(queue))
                        .flatMap(QueueStats::oldestReady).map(d -> d.toMillis() / 1000.0).orElse(0.0))
                .description("How long the oldest due ready job has waited past its run-at").baseUnit("seconds")
                .tag("queue", queue).register(registry);
        JobCounters c = jobs.counters();
        event(registry, queue, "claimed", c.claimed);
        event(registry, queue, "done", c.done);
        event(registry, queue, "failed", c.failed);
        event(registry, queue, "dead", c.dead);
        event(registry, queue, "released", c.released);
        event(registry, queue, "recovered", c.recovered);
        event(registry, queue, "fenced", c.fenced);
        event(registry, queue, "store_error", c.storeErrors);
        timer(registry, queue, "shieldpool.jobs.claim.latency", "Time from a claim's request to its answer", c.claims, c.claimNanos);
        timer(registry, queue, "shieldpool.jobs.ack.latency", "Time from an ack's request to its commit", c.acks, c.ackNanos);
    }

    private static void event(MeterRegistry registry, String queue, String event, LongAdder adder) {
        FunctionCounter.builder("shieldpool.jobs.events", adder, LongAdder::sum)
                .description("Job events in this run of the daemon").tag("queue", queue).tag("event", event)
                .register(registry);
    }

    private static void timer(MeterRegistry registry, String queue, String name, String description, LongAdder count,
                              LongAdder nanos) {
        ToDoubleFunction<LongAdder> total = n -> n.sum();
        FunctionTimer.builder(name, nanos, n -> count.sum(), total, TimeUnit.NANOSECONDS)
                .description(description).tag("queue", queue).register(registry);
    }

    private static void refuseMethod(HttpServerRequest request, String allowed) {
        request.response().putHeader(HttpHeaders.ALLOW, allowed);
        send(request, 405, new JsonObject().put("error", request.method() + " " + request.path()
                + " (expected: " + allowed + ")"));
    }

    private static void send(HttpServerRequest request, int status, JsonObject body) {
        request.response().setStatusCode(status).putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                .putHeader("X-Content-Type-Options", "nosniff").putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body.toBuffer().appendString("\n"));
    }
}
