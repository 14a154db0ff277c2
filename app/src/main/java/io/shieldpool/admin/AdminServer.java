package io.shieldpool.admin;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.metrics.PoolEvents;
import io.shieldpool.metrics.PoolMetrics;
import io.shieldpool.view.PoolListener;
import io.shieldpool.view.PoolView;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.ShutdownReport;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The admin HTTP server: read-only endpoints on Vert.x core's {@link HttpServer}.
 *
 * <ul>
 *   <li>{@code GET /healthz}: 200 while the supervisor's event loop answers within
 *       {@link #HEALTH_TIMEOUT}, else 503 with the reason. Never needs the token.</li>
 *   <li>{@code GET /readyz}: 200 only while the pool is running; 503 while starting and from the
 *       first instant of a drain. Never needs the token.</li>
 *   <li>{@code GET /metrics}: Prometheus text format.</li>
 *   <li>{@code GET /status[?workers=N]}: the pool as JSON ({@link StatusJson}).</li>
 *   <li>{@code GET /}: the live status page.</li>
 * </ul>
 *
 * With a token configured, everything but the two probes needs it ({@link TokenCheck}); a refusal
 * is a 401 and a rate-limited WARN line ({@link UnauthorizedLog}). No endpoint changes anything.
 *
 * <p>Lifecycle: deployed before the supervisor, so it answers from before {@code ready} to the end
 * of the drain; it closes with Vert.x, after the pool has stopped. As a {@link PoolListener} it
 * counts reloads and warms the metrics registry up once the pool is ready (building it costs a few
 * hundred ms of class loading that start-up should not wait for).
 */
public final class AdminServer extends VerticleBase implements PoolListener {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** How long /healthz waits for the supervisor's event loop (below Kubernetes' 1 s probe timeout). */
    static final Duration HEALTH_TIMEOUT = Duration.ofMillis(500);
    /** How long /status and /metrics wait for the pool's answer before a 503. */
    static final Duration STATUS_TIMEOUT = Duration.ofSeconds(5);
    static final int DEFAULT_WORKERS_LISTED = 100;
    static final int MAX_WORKERS_LISTED = 10_000;
    private static final List<String> WWW_AUTHENTICATE = List.of(
            "Basic realm=\"shieldpool admin\", charset=\"UTF-8\"", "Bearer realm=\"shieldpool admin\"");

    private final ShieldpoolConfig.Admin settings;
    private final PoolView pool;
    private final String version;
    private final Optional<TokenCheck> tokenCheck;
    private final UnauthorizedLog unauthorized = new UnauthorizedLog(System::nanoTime);
    private final PoolEvents events = new PoolEvents();
    private final Buffer statusPage = loadStatusPage();

    private HttpServer server;
    private ConnectionLimits limits;
    /** POST /jobs and GET /jobs/stats, with a job store; null without one. */
    private volatile io.shieldpool.jobs.runtime.JobsEndpoints jobs;
    private volatile io.micrometer.core.instrument.binder.MeterBinder kindMeters = registry -> { };
    /** Built once, on the admin context, at first need or once the pool is ready. */
    private Future<PoolMetrics> metrics;

    public AdminServer(ShieldpoolConfig.Admin settings, PoolView pool, String version) {
        this.settings = settings;
        this.pool = pool;
        this.version = version;
        this.tokenCheck = settings.token().map(TokenCheck::new);
    }

    @Override
    public Future<?> start() {
        limits = new ConnectionLimits(vertx, settings.maxConnections(), settings.requestHeaderTimeout());
        server = vertx.createHttpServer(new HttpServerOptions()
                        // why: a forgotten browser tab or a stuck scraper must not hold sockets forever.
                        .setIdleTimeout((int) Math.max(1, settings.idleTimeout().toMillis()))
                        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                        // why: with h2c on, Vert.x waits for a client's first bytes to choose HTTP/1.1 or
                        // HTTP/2 before it creates the connection, so a silent socket escaped the
                        // connection handler, and with it the cap and the request-header timeout.
                        .setHttp2ClearTextEnabled(false)
                        .setMaxInitialLineLength(2048)
                        .setMaxHeaderSize(8192))
                .connectionHandler(limits::connected)
                .requestHandler(request -> {
                    limits.requestArrived(request);
                    handle(request);
                });
        return server.listen(settings.port(), settings.host()).onSuccess(s ->
                log.atInfo().addKeyValue("event", "admin.listening").addKeyValue("host", settings.host())
                        .addKeyValue("port", s.actualPort())
                        .addKeyValue("auth", tokenCheck.isPresent() ? "token" : "none")
                        .log("admin server on http://{}:{}/ (status page at /, metrics at /metrics){}",
                                hostForUrl(settings.host()), s.actualPort(),
                                tokenCheck.isPresent() ? "; token required except on /healthz and /readyz" : ""));
    }

    @Override
    public Future<?> stop() {
        Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
        return closed.eventually(() -> {
            if (metrics != null && metrics.succeeded()) {
                metrics.result().close();
            }
            return Future.succeededFuture();
        });
    }

    /** Meters of the work kind (the http kind's retries), added to /metrics; set before deploying. */
    public void useMeters(io.micrometer.core.instrument.binder.MeterBinder kindMeters) {
        this.kindMeters = kindMeters;
    }

    /** Serves POST /jobs and GET /jobs/stats and adds the jobs to /status and /metrics; set before deploying. */
    public void useJobs(io.shieldpool.jobs.runtime.JobsEndpoints endpoints) {
        this.jobs = endpoints;
    }

    /** The port actually bound (the configured one, or the one the system chose for 0). */
    int actualPort() {
        return server.actualPort();
    }

    // ---- PoolListener (called on the supervisor's context) ----

    @Override
    public void ready(int workers) {
        context.runOnContext(v -> metrics());
    }

    @Override
    public void reloadEnded(boolean applied, String summary) {
        events.reloadEnded(applied, summary);
    }

    @Override
    public void stopped(ShutdownReport report) {
        events.stopped(report);
    }

    // ---- requests ----

    private void handle(HttpServerRequest request) {
        if (jobs != null && io.shieldpool.jobs.runtime.JobsEndpoints.handles(request.path())) {
            if (authorized(request)) {
                jobs.handle(request);
            }
            return;
        }
        if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
            request.response().putHeader(HttpHeaders.ALLOW, "GET, HEAD");
            send(request, 405, json(new JsonObject().put("error", "read-only: only GET and HEAD are served")));
            return;
        }
        switch (request.path()) {
            case "/healthz" -> health(request);
            case "/readyz" -> readiness(request);
            case "/metrics" -> {
                if (authorized(request)) {
                    metricsEndpoint(request);
                }
            }
            case "/status" -> {
                if (authorized(request)) {
                    status(request);
                }
            }
            case "/" -> {
                if (authorized(request)) {
                    request.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
                            // why: the page is self-contained; nothing may load from elsewhere, nor frame it.
                            .putHeader("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                                    + "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
                                    + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
                    send(request, 200, statusPage);
                }
            }
            default -> send(request, 404, json(new JsonObject().put("error", "no such endpoint")
                    .put("endpoints", List.of("/", "/healthz", "/readyz", "/metrics", "/status"))));
        }
    }

    private void health(HttpServerRequest request) {
        onAdminContext(pool.ping().timeout(HEALTH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).onComplete(ar -> {
            JsonObject body = new JsonObject().put("state", pool.state().label());
            if (ar.succeeded()) {
                send(request, 200, json(body.put("status", "ok")));
            } else {
                send(request, 503, json(body.put("status", "unresponsive").put("reason",
                        "the supervisor's event loop did not answer within " + HEALTH_TIMEOUT.toMillis() + " ms")));
            }
        });
    }

    private void readiness(HttpServerRequest request) {
        LifecycleState state = pool.state();
        JsonObject body = new JsonObject().put("state", state.label()).put("ready", state == LifecycleState.RUNNING);
        if (state == LifecycleState.RUNNING && jobs != null && !jobs.storeReachable()) {
            // why: a node whose job store is unreachable claims nothing; a load balancer or an
            // orchestrator should see it as not ready (it recovers by itself, so not unhealthy).
            send(request, 503, json(body.put("ready", false).put("reason", "the job store is unreachable or takes no writes: no job is claimed until it is back")));
            return;
        }
        if (state == LifecycleState.RUNNING && jobs != null && jobs.storeLost().isPresent()) {
            // why: it takes no enqueue and will not come back by itself; an operator must act.
            send(request, 503, json(body.put("ready", false).put("reason", "the job store is lost: " + jobs.storeLost().get())));
            return;
        }
        switch (state) {
            case RUNNING -> send(request, 200, json(body));
            case STARTING -> send(request, 503, json(body.put("reason", "starting: the pool is not running yet")));
            case DRAINING -> send(request, 503, json(body.put("reason", "draining: no new section starts")));
            case STOPPED -> send(request, 503, json(body.put("reason", "stopped")));
        }
    }

    private void status(HttpServerRequest request) {
        int limit;
        String asked = request.getParam("workers");
        try {
            limit = asked == null ? DEFAULT_WORKERS_LISTED : Integer.parseInt(asked.trim());
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 0 || limit > MAX_WORKERS_LISTED) {
            send(request, 400, json(new JsonObject().put("error", "workers: " + asked
                    + " (expected: an integer from 0 to " + MAX_WORKERS_LISTED + ")")));
            return;
        }
        onAdminContext(pool.status(limit).timeout(STATUS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).onComplete(ar -> {
            if (ar.failed()) {
                unavailable(request, ar);
                return;
            }
            if (jobs == null) {
                send(request, 200, StatusJson.render(ar.result(), version, uptimeMillis(), null));
                return;
            }
            jobs.stats().onComplete(stats -> {
                // why best effort: a store that does not answer must not take the pool's status with it.
                JsonObject jobsStats = stats.succeeded() ? stats.result()
                        : new JsonObject().put("error", String.valueOf(stats.cause().getMessage()));
                send(request, 200, StatusJson.render(ar.result(), version, uptimeMillis(), jobsStats));
            });
        });
    }

    private void metricsEndpoint(HttpServerRequest request) {
        metrics().compose(registry -> onAdminContext(pool.status(0).timeout(STATUS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).map(status -> {
            // why: every pool meter reads this one status, so a scrape is consistent with itself.
            registry.update(status);
            return registry;
        })).compose(registry -> jobs == null ? Future.succeededFuture(registry.scrape())
                : onAdminContext(jobs.stats().transform(ignored -> Future.succeededFuture(registry.scrape()))))
                .onComplete(ar -> {
            if (ar.failed()) {
                unavailable(request, ar);
                return;
            }
            request.response().putHeader(HttpHeaders.CONTENT_TYPE, PoolMetrics.contentType());
            send(request, 200, Buffer.buffer((String) ar.result()));
        });
    }

    private Future<PoolMetrics> metrics() {
        if (metrics == null || metrics.failed()) {
            // why: a worker thread, not this event loop: building the registry loads a few hundred classes.
            metrics = onAdminContext(pool.status(0).timeout(STATUS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
                    .compose(initial -> vertx.executeBlocking(() -> {
                        PoolMetrics built = new PoolMetrics(initial, version, events);
                        kindMeters.bindTo(built.registry());
                        if (jobs != null) {
                            jobs.bindTo(built.registry());
                        }
                        return built;
                    }));
        }
        return metrics;
    }

    private boolean authorized(HttpServerRequest request) {
        if (tokenCheck.isEmpty()) {
            return true;
        }
        Optional<String> refusal = tokenCheck.get().refusal(request.getHeader(HttpHeaders.AUTHORIZATION));
        if (refusal.isEmpty()) {
            return true;
        }
        unauthorized.refused(request.method().name(), request.path(), String.valueOf(request.remoteAddress()),
                refusal.get());
        request.response()
                // why: Basic first, so a browser shows its log-in prompt (token as the password).
                .putHeader("WWW-Authenticate", WWW_AUTHENTICATE);
        send(request, 401, json(new JsonObject().put("error",
                "unauthorized: send the admin token as 'Authorization: Bearer <token>' (or as the Basic password)")));
        return false;
    }

    // ---- plumbing ----

    private void unavailable(HttpServerRequest request, AsyncResult<?> failure) {
        send(request, 503, json(new JsonObject().put("state", pool.state().label())
                .put("error", "the pool did not answer: " + failure.cause().getMessage())));
    }

    /** Hands a result computed on another thread (the supervisor's, a worker's) back to this context. */
    private <T> Future<T> onAdminContext(Future<T> future) {
        Promise<T> promise = Promise.promise();
        future.onComplete(ar -> context.runOnContext(v -> promise.handle(ar)));
        return promise.future();
    }

    private static Buffer json(JsonObject body) {
        return body.toBuffer().appendString("\n");
    }

    private static void send(HttpServerRequest request, int status, Buffer body) {
        var response = request.response().setStatusCode(status)
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                .putHeader("X-Content-Type-Options", "nosniff");
        if (!response.headers().contains(HttpHeaders.CONTENT_TYPE)) {
            response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        }
        response.end(body);
    }

    private static long uptimeMillis() {
        return ManagementFactory.getRuntimeMXBean().getUptime();
    }

    private static String hostForUrl(String host) {
        return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    }

    private static Buffer loadStatusPage() {
        try (InputStream in = AdminServer.class.getResourceAsStream("status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html is missing from the jar");
            }
            return Buffer.buffer(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
