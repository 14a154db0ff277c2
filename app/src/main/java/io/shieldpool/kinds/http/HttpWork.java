package io.shieldpool.kinds.http;

import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.SectionRun;
import io.shieldpool.kinds.Work;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.shieldpool.jobs.Job;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The http kind: each section sends one request through the daemon's pooled HTTP client and
 * completes when the response, body included, has a status in {@code success-statuses}. A refused
 * connection or any other status fails the section (with the backoff). {@code work.timeout} runs
 * from the section's start, {@code http.timeout} from sending the request to the end of its
 * response body: passing either makes the section {@code timed_out} and resets the request.
 * A request that met a kept-alive connection the server had closed is sent again once, on a fresh
 * connection, when {@link StaleConnectionRetry} allows it.
 */
final class HttpWork implements Work {

    private static final Logger log = LoggerFactory.getLogger(HttpWork.class);

    private final HttpSettings settings;
    private final Duration workTimeout;
    private final Vertx vertx;
    private final PooledClient client;
    private final RateLimit rateLimit;
    private final RequestOptions template;
    private final Buffer body;
    private final PayloadTemplate urlTemplate;
    private final PayloadTemplate bodyTemplate;
    private final StaleConnectionRetry retry;
    private final RetryCounts counts;

    private HttpWork(HttpSettings settings, Duration workTimeout, Vertx vertx, PooledClient client,
                     RateLimit rateLimit, RetryCounts counts) {
        this.settings = settings;
        this.counts = counts;
        this.retry = new StaleConnectionRetry(settings.method(), settings.headers());
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
        private final RetryCounts counts;

        /**
         * @param poolSize the pool size at start: the client holds one connection per worker
         * @param counts   where the works count their stale-connection retries
         */
        Factory(Vertx vertx, int poolSize, RetryCounts counts) {
            this.vertx = vertx;
            this.counts = counts;
            this.client = new PooledClient(vertx, poolSize);
            this.rateLimit = new RateLimit(0, System::nanoTime, (delayNanos, task) ->
                    vertx.setTimer(Math.max(1, (delayNanos + 999_999) / 1_000_000), id -> task.run()));
        }

        /** The work for {@code settings}, with room in the client for {@code poolSize} requests at once. */
        Work create(HttpSettings settings, Duration workTimeout, int poolSize) {
            client.fit(poolSize);
            rateLimit.setRate(settings.maxRate());
            return new HttpWork(settings, workTimeout, vertx, client, rateLimit, counts);
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
        /** The request as sent: the template, or its URL rendered from the section's job. */
        private RequestOptions options = template;
        /** The body rendered from the section's job, when the body is a template. */
        private Buffer jobBody;
        /** The pooled connection the first attempt took. */
        private KeptAliveConnections.Use connectionUse;
        /** The retry's own connection, closed when the section ends; null until a retry connects. */
        private HttpClientConnection freshConnection;
        /** Why the request went on a fresh connection; null until it did. */
        private Resend resent;
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
                connectionUse = client.connections().take(ready.connection());
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
                            } else if (connectionUse.closed()) {
                                // why: the server closed the connection while the request waited
                                // for its write (its keep-alive timeout ran out): nothing was sent,
                                // so it goes on a fresh connection whatever its method.
                                request.reset();
                                armSendTimer();
                                sendAgain(new StaleConnection("the server closed the connection while the request "
                                        + "waited to be written under work.http.max-rate; nothing was sent"),
                                        Resend.UNWRITTEN);
                            } else {
                                send();
                            }
                        }));
                    }
                }
            }));
        }

        private void send() {
            armSendTimer();
            exchange(request);
        }

        private void armSendTimer() {
            long httpTimeoutMs = settings.timeout().toMillis();
            sendTimerId = vertx.setTimer(httpTimeoutMs, id -> {
                sendTimerId = -1;
                if (!ended()) {
                    onTimeout("work.http.timeout of " + httpTimeoutMs + " ms passed");
                }
            });
        }

        /** Sends {@code sending} and reads its answer to the end; the first attempt or the retry. */
        private void exchange(HttpClientRequest sending) {
            Buffer sent = jobBody != null ? jobBody : body;
            (sent == null ? sending.send() : sending.send(sent)).onComplete(ar -> onHome(() -> {
                if (ar.failed()) {
                    failedBeforeTheResponse(ar.cause());
                    return;
                }
                HttpClientResponse response = ar.result();
                // why: the end's future reports a connection lost mid-body; without a handler Vert.x
                // would also log it at ERROR. Never retried: the server has begun to answer.
                response.exceptionHandler(ignored -> { });
                // why end() rather than body(): the body is read to its end, as the section's outcome
                // needs, but not gathered into a buffer nobody looks at.
                response.end().map(v -> response.statusCode()).onComplete(end -> onHome(() -> finish(end)));
            }));
        }

        /**
         * The request failed before any response arrived. On a kept-alive connection the server had
         * closed (its idle timeout, a keep-alive request limit, a proxy) it is sent again once on a
         * fresh connection, if it may be repeated (see {@link StaleConnectionRetry}).
         */
        private void failedBeforeTheResponse(Throwable cause) {
            if (resent != null || ended() || connectionUse == null || !connectionUse.reused()
                    || !StaleConnectionRetry.connectionLost(cause)) {
                finish(Future.failedFuture(resent != null
                        ? new StaleConnection(describe(cause) + " (" + resent.failure() + ")") : cause));
                return;
            }
            if (!retry.replayable()) {
                counts.notRetried.increment();
                finish(Future.failedFuture(new StaleConnection("the server closed the kept-alive connection before "
                        + "answering (" + describe(cause) + "); not sent again: a " + settings.method()
                        + " may have reached the server (only GET, HEAD, OPTIONS, PUT, DELETE or a request with an "
                        + "Idempotency-Key header are)")));
                return;
            }
            connectionUse.closedBeforeAnyAnswer().onComplete(closed -> onHome(() -> {
                if (ended()) {
                    finish(Future.failedFuture(cause));
                } else if (!closed.result()) {
                    finish(Future.failedFuture(new StaleConnection(describe(cause)
                            + " after part of an answer had arrived (not sent again)")));
                } else {
                    sendAgain(cause, Resend.STALE);
                }
            }));
        }

        /**
         * The one retry, on a connection of its own rather than from the pool, whose other idle
         * connections the server may have closed too. why not a new turn under max-rate: the first
         * attempt ended on a connection the server had closed, without an answer; the retry is that
         * turn's request, and waiting again in line would put it behind every waiting section. It
         * runs on the first attempt's http.timeout clock and within work.timeout.
         */
        private void sendAgain(Throwable first, Resend why) {
            resent = why;
            counts.retried.increment();
            log.atDebug().addKeyValue("event", "http.retry").addKeyValue("worker", section.workerId())
                    .addKeyValue("section", section.sectionId()).addKeyValue("error", describe(first))
                    .log("{} {}: {} ({}); {}", settings.method(), settings.shownUrl(), why.what(),
                            describe(first), why.done());
            HttpConnectOptions connect = new HttpConnectOptions().setHost(options.getHost()).setPort(options.getPort())
                    .setSsl(options.isSsl()).setConnectTimeout(settings.timeout().toMillis());
            lease.client().connect(connect).onComplete(connected -> onHome(() -> {
                if (connected.failed()) {
                    failedBeforeTheResponse(connected.cause());
                    return;
                }
                freshConnection = connected.result();
                if (ended()) {
                    finish(Future.failedFuture(first)); // timed out meanwhile: only closes the connection
                    return;
                }
                freshConnection.request(options).onComplete(ar -> onHome(() -> {
                    if (ar.failed()) {
                        failedBeforeTheResponse(ar.cause());
                        return;
                    }
                    HttpClientRequest again = ar.result();
                    again.exceptionHandler(ignored -> { });
                    if (ended()) {
                        again.reset();
                        finish(Future.failedFuture(first));
                        return;
                    }
                    request = again;
                    exchange(again);
                }));
            }));
        }

        private void giveBack(RateLimit.Turn given) {
            if (given != null) {
                given.giveBack();
            }
        }

        private void finish(AsyncResult<Integer> ar) {
            cancelSendTimer();
            lease.release();
            if (freshConnection != null) {
                freshConnection.close();
                freshConnection = null;
            }
            if (ar.failed()) {
                failed(new HttpFailure(settings.method() + " " + settings.shownUrl() + ": "
                        + describe(ar.cause())));
            } else if (settings.successStatuses().contains(ar.result())) {
                completed();
            } else {
                failed(new HttpFailure(settings.method() + " " + settings.shownUrl()
                        + " answered " + ar.result() + " (success-statuses: " + settings.successStatuses() + ")"));
            }
        }

        @Override
        protected void onTimeout(String reason) {
            over = true;
            // why: ended first; resetting fails the request's future at once, which would count it as failed.
            timedOut(reason + " (" + settings.method() + " " + settings.shownUrl() + ")");
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

    /**
     * Why a request goes on a fresh connection of its own, in the words of its log line and of its failure there.
     *
     * @param what    what happened to the connection it had
     * @param done    what is done about it
     * @param failure how a failure on the fresh connection says why the request was there
     */
    private record Resend(String what, String done, String failure) {
        /** It met a kept-alive connection the server had closed before answering: it is sent again. */
        static final Resend STALE = new Resend("the server closed the kept-alive connection before answering",
                "sending again on a fresh connection",
                "on a fresh connection, sent again after the server closed a kept-alive one");
        /** The connection closed while the request waited to be written: nothing had been sent. */
        static final Resend UNWRITTEN = new Resend("the server closed the connection before the request was written",
                "sending it on a fresh connection",
                "on a fresh connection, after the server closed the pooled one before the request was written to it");
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    /** A kept-alive connection closed under a request; the message says what was done about it. */
    static final class StaleConnection extends RuntimeException {
        StaleConnection(String message) {
            super(message, null, false, false);
        }
    }

    /** A request that failed or was answered with another status; the message says it all. */
    static final class HttpFailure extends RuntimeException {
        HttpFailure(String message) {
            super(message, null, false, false);
        }
    }
}
