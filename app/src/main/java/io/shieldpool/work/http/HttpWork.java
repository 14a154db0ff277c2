package io.shieldpool.work.http;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.work.ActiveSection;
import io.shieldpool.work.SectionRun;
import io.shieldpool.work.Work;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.time.Duration;

/**
 * The http kind: each section sends one request through the daemon's pooled HTTP client and
 * completes when the response, body included, has a status in {@code success-statuses}. A refused
 * connection or any other status fails the section (with the backoff); passing
 * {@code http.timeout} or {@code work.timeout} makes it {@code timed_out} and resets the request.
 */
public final class HttpWork implements Work {

    private final ShieldpoolConfig.Http settings;
    private final Duration workTimeout;
    private final Vertx vertx;
    private final HttpClient client;
    private final RateLimit rateLimit;
    private final RequestOptions template;
    private final Buffer body;

    private HttpWork(ShieldpoolConfig.Http settings, Duration workTimeout, Vertx vertx, HttpClient client,
                     RateLimit rateLimit) {
        this.settings = settings;
        this.workTimeout = workTimeout;
        this.vertx = vertx;
        this.client = client;
        this.rateLimit = rateLimit;
        this.template = new RequestOptions().setMethod(HttpMethod.valueOf(settings.method()))
                .setAbsoluteURI(settings.url().orElseThrow().toString());
        settings.headers().forEach(template::putHeader);
        this.body = settings.body().isEmpty() ? null : Buffer.buffer(settings.body());
    }

    @Override
    public String type() {
        return "http";
    }

    @Override
    public void begin(ActiveSection section) {
        new HttpRun(section, vertx.getOrCreateContext()).start();
    }

    /** The HTTP client and the rate limit, shared by the http works of every reload. */
    public static final class Factory {
        private final Vertx vertx;
        private final HttpClient client;
        private final RateLimit rateLimit;

        /** @param poolSize the pool size at start: one connection per worker, at least 5, at most 1000 */
        public Factory(Vertx vertx, int poolSize) {
            this.vertx = vertx;
            this.client = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setKeepAlive(true),
                    new io.vertx.core.http.PoolOptions().setHttp1MaxSize(Math.clamp(poolSize, 5, 1000))
                            .setMaxWaitQueueSize(-1));
            this.rateLimit = new RateLimit(0, System::nanoTime);
        }

        public Work create(ShieldpoolConfig.Http settings, Duration workTimeout) {
            rateLimit.setRate(settings.maxRate());
            return new HttpWork(settings, workTimeout, vertx, client, rateLimit);
        }

        /** Closes the client; after the pool has stopped. */
        public Future<Void> close() {
            return client.close();
        }
    }

    /** One request. */
    private final class HttpRun extends SectionRun {
        private final String timeoutKey;
        private final long timeoutMs;
        private HttpClientRequest request;

        HttpRun(ActiveSection section, Context home) {
            super(section, home, HttpWork.this.vertx, effectiveTimeout());
            boolean workFirst = !workTimeout.isZero() && workTimeout.compareTo(settings.timeout()) < 0;
            this.timeoutKey = workFirst ? "work.timeout" : "work.http.timeout";
            this.timeoutMs = (workFirst ? workTimeout : settings.timeout()).toMillis();
        }

        void start() {
            armTimeout();
            client.request(template).compose(req -> {
                request = req;
                if (ended()) {
                    req.reset();
                    return Future.failedFuture("timed out before sending");
                }
                // why: the turn under max-rate is taken once the connection is ready, so connection
                // set-up (slow at first) cannot bunch requests up at the target.
                long waitNanos = rateLimit.reserve();
                if (waitNanos <= 0) {
                    return claimAndSend(req);
                }
                return vertx.timer(Math.max(1, waitNanos / 1_000_000)).compose(t -> claimAndSend(req));
            }).compose(response -> response.body().map(b -> response.statusCode()))
                    .onComplete(ar -> onHome(() -> {
                        if (ar.failed()) {
                            failed(new HttpFailure(settings.method() + " " + settings.url().orElseThrow() + ": "
                                    + describe(ar.cause())));
                        } else if (settings.successStatuses().contains(ar.result())) {
                            completed();
                        } else {
                            failed(new HttpFailure(settings.method() + " " + settings.url().orElseThrow()
                                    + " answered " + ar.result() + " (success-statuses: " + settings.successStatuses()
                                    + ")"));
                        }
                    }));
        }

        @Override
        protected void onTimeout(String ignored) {
            // why: ended first; resetting fails the request's future at once, which would count it as failed.
            timedOut(timeoutKey + " of " + timeoutMs + " ms passed (" + settings.method() + " "
                    + settings.url().orElseThrow() + ")");
            if (request != null) {
                request.reset();
            }
        }

        private Future<io.vertx.core.http.HttpClientResponse> claimAndSend(HttpClientRequest req) {
            long lateNanos = rateLimit.claim();
            if (lateNanos > 0 && !ended()) {
                return vertx.timer(Math.max(1, (lateNanos + 999_999) / 1_000_000)).compose(t -> claimAndSend(req));
            }
            return send(req);
        }

        private Future<io.vertx.core.http.HttpClientResponse> send(HttpClientRequest req) {
            if (ended()) {
                req.reset();
                return Future.failedFuture("timed out while waiting for its turn under max-rate");
            }
            return body == null ? req.send() : req.send(body);
        }
    }

    private Duration effectiveTimeout() {
        return !workTimeout.isZero() && workTimeout.compareTo(settings.timeout()) < 0 ? workTimeout : settings.timeout();
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    /** A request that failed or was answered with another status; the message says it all. */
    static final class HttpFailure extends RuntimeException {
        HttpFailure(String message) {
            super(message, null, false, false);
        }
    }
}
