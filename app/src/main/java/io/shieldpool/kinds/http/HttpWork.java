package io.shieldpool.kinds.http;

import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.SectionRun;
import io.shieldpool.kinds.Work;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.shieldpool.jobs.Job;

import java.time.Duration;

/**
 * The http kind: each section sends one request through the daemon's pooled HTTP client and
 * completes when the response, body included, has a status in {@code success-statuses}. A refused
 * connection or any other status fails the section (with the backoff). {@code work.timeout} runs
 * from the section's start, {@code http.timeout} from sending the request to the end of its
 * response body: passing either makes the section {@code timed_out} and resets the request.
 */
final class HttpWork implements Work {

    private final HttpSettings settings;
    private final Duration workTimeout;
    private final Vertx vertx;
    private final PooledClient client;
    private final RateLimit rateLimit;
    private final RequestOptions template;
    private final Buffer body;
    private final PayloadTemplate urlTemplate;
    private final PayloadTemplate bodyTemplate;

    private HttpWork(HttpSettings settings, Duration workTimeout, Vertx vertx, PooledClient client,
                     RateLimit rateLimit) {
        this.settings = settings;
        this.workTimeout = workTimeout;
        this.vertx = vertx;
        this.client = client;
        this.rateLimit = rateLimit;
        this.template = new RequestOptions().setMethod(HttpMethod.valueOf(settings.method()))
                .setAbsoluteURI(settings.url().orElseThrow().toString())
                // why: without it a target that drops packets holds a connect for Vert.x's 60 s,
                // longer than most sections and the watchdog's stall bound.
                .setConnectTimeout(settings.timeout().toMillis());
        settings.headers().forEach(template::putHeader);
        this.body = settings.body().isEmpty() ? null : Buffer.buffer(settings.body());
        this.urlTemplate = new PayloadTemplate(settings.url().orElseThrow().toString(), true);
        this.bodyTemplate = new PayloadTemplate(settings.body(), false);
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
    static final class Factory {
        private final Vertx vertx;
        private final PooledClient client;
        private final RateLimit rateLimit;

        /** @param poolSize the pool size at start: the client holds one connection per worker */
        Factory(Vertx vertx, int poolSize) {
            this.vertx = vertx;
            this.client = new PooledClient(vertx, poolSize);
            this.rateLimit = new RateLimit(0, System::nanoTime, (delayNanos, task) ->
                    vertx.setTimer(Math.max(1, (delayNanos + 999_999) / 1_000_000), id -> task.run()));
        }

        /** The work for {@code settings}, with room in the client for {@code poolSize} requests at once. */
        Work create(HttpSettings settings, Duration workTimeout, int poolSize) {
            client.fit(poolSize);
            rateLimit.setRate(settings.maxRate());
            return new HttpWork(settings, workTimeout, vertx, client, rateLimit);
        }

        /** The pool was resized (reload, SIGTTIN): the client makes room for one connection per worker. */
        void poolResized(int poolSize) {
            client.fit(poolSize);
        }

        /** Closes the client; after the pool has stopped. */
        Future<Void> close() {
            return client.close();
        }
    }

    /**
     * One request. Everything but the callbacks of the client and the rate limit runs on the
     * worker's thread; those hop to it through {@link #onHome}.
     */
    private final class HttpRun extends SectionRun {
        private final PooledClient.Lease lease;
        private HttpClientRequest request;
        /** The body rendered from the section's job, when the body is a template. */
        private Buffer jobBody;
        private RateLimit.Turn turn;
        private long sendTimerId = -1;
        /** Set once the section timed out: read by the rate limit's write line from its timer's thread. */
        private volatile boolean over;

        HttpRun(ActiveSection section, Context home) {
            // why: SectionRun's own limit is work.timeout, from the section's start; http.timeout is
            // armed at send, so neither connection set-up nor the wait for a turn under max-rate
            // counts against it.
            super(section, home, HttpWork.this.vertx, workTimeout);
            this.lease = client.lease();
        }

        void start() {
            armTimeout();
            if (rateLimit.unlimited()) {
                // why: without max-rate there is no line to wait in; the line's lock and its turn
                // would be the only thing the shards' sections share.
                connect(null);
                return;
            }
            // why: a section takes a connection only once its turn under max-rate has come. A
            // connection held idle through a long wait in line is one the server may close (short
            // keep-alive timeouts: 5 s in Node.js and Apache httpd), failing the section at its turn.
            turn = rateLimit.await(given -> onHome(() -> connect(given)));
        }

        /** @param given the turn under max-rate, or null when the section started without a limit */
        private void connect(RateLimit.Turn given) {
            if (ended()) {
                // Ended between the turn being handed out and now: another section may use it.
                giveBack(given);
                lease.release();
                return;
            }
            RequestOptions options = template;
            Job job = section.job();
            if (job != null && (urlTemplate.templated() || bodyTemplate.templated())) {
                try {
                    if (urlTemplate.templated()) {
                        options = new RequestOptions(template).setAbsoluteURI(urlTemplate.render(job));
                    }
                    if (bodyTemplate.templated()) {
                        jobBody = Buffer.buffer(bodyTemplate.render(job));
                    }
                } catch (PayloadTemplate.MissingField | IllegalArgumentException e) {
                    giveBack(given);
                    lease.release();
                    failed(e);
                    return;
                }
            }
            lease.client().request(options).onComplete(ar -> onHome(() -> {
                if (ar.failed()) {
                    finish(Future.failedFuture(ar.cause()));
                    return;
                }
                HttpClientRequest ready = ar.result();
                // why: a request reset before it was sent (its section timed out) reports only here,
                // and Vert.x logs an unhandled one at ERROR; the section has already reported it.
                ready.exceptionHandler(ignored -> { });
                if (ended()) {
                    ready.reset();
                    lease.release();
                } else {
                    request = ready;
                    if (given == null) {
                        send();
                    } else {
                        rateLimit.awaitWrite(() -> !over, () -> onHome(() -> {
                            // why: a section that timed out meanwhile has had its request reset by
                            // onTimeout; its lease goes back here, as the send's end would give it back.
                            if (ended()) {
                                request.reset();
                                lease.release();
                            } else {
                                send();
                            }
                        }));
                    }
                }
            }));
        }

        private void send() {
            long httpTimeoutMs = settings.timeout().toMillis();
            sendTimerId = vertx.setTimer(httpTimeoutMs, id -> {
                sendTimerId = -1;
                if (!ended()) {
                    onTimeout("work.http.timeout of " + httpTimeoutMs + " ms passed");
                }
            });
            Buffer sent = jobBody != null ? jobBody : body;
            // why end() rather than body(): the body is read to its end, as the section's outcome
            // needs, but not gathered into a buffer nobody looks at.
            (sent == null ? request.send() : request.send(sent))
                    .compose(response -> response.end().map(v -> response.statusCode()))
                    .onComplete(ar -> onHome(() -> finish(ar)));
        }

        private void giveBack(RateLimit.Turn given) {
            if (given != null) {
                given.giveBack();
            }
        }

        private void finish(AsyncResult<Integer> ar) {
            cancelSendTimer();
            lease.release();
            if (ar.failed()) {
                failed(new HttpFailure(settings.method() + " " + settings.url().orElseThrow() + ": "
                        + describe(ar.cause())));
            } else if (settings.successStatuses().contains(ar.result())) {
                completed();
            } else {
                failed(new HttpFailure(settings.method() + " " + settings.url().orElseThrow()
                        + " answered " + ar.result() + " (success-statuses: " + settings.successStatuses() + ")"));
            }
        }

        @Override
        protected void onTimeout(String reason) {
            over = true;
            // why: ended first; resetting fails the request's future at once, which would count it as failed.
            timedOut(reason + " (" + settings.method() + " " + settings.url().orElseThrow() + ")");
            cancelSendTimer();
            if (turn != null && turn.cancel()) {
                // It left the line before its turn: nothing more will happen to this section.
                lease.release();
            } else if (request != null) {
                request.reset();
            }
        }

        private void cancelSendTimer() {
            if (sendTimerId >= 0) {
                vertx.cancelTimer(sendTimerId);
                sendTimerId = -1;
            }
        }
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
