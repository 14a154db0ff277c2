package io.shieldpool.e2e;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A local Vert.x HTTP server for the http kind's tests: it records every request as it arrives
 * and answers it after {@code ?delay=MS} with {@code ?status=N} (default 200 at once).
 */
final class RecordingServer implements AutoCloseable {

    /** One request as received. */
    record Request(long receivedNanos, String method, String uri, String header, String body) {
    }

    private final Vertx vertx = Vertx.vertx();
    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();
    private int answered;
    private int inFlight;
    private int mostInFlight;
    private final int idleTimeoutMs;
    private final Map<HttpConnection, IdleClock> idleClocks = new HashMap<>();
    /** Whether a request has arrived since the start or the warm-up: idle clocks wait for it. */
    private boolean anyRequest;
    private int idleClosed;

    RecordingServer() throws Exception {
        this(0);
    }

    /**
     * @param idleTimeoutMs closes a connection idle that long (0: never), as servers with a short
     *                      keep-alive timeout do (Node.js and Apache httpd: 5 s). A connection is
     *                      idle from its accept until its first request, and from each answer's end
     *                      until its next request. why the clock of a connection accepted before
     *                      the server's first request starts only at that request (see
     *                      {@link IdleClock}): a cold client JVM can take more than a second from
     *                      its first connect to its first request on the wire (seen once at load
     *                      14), which is its start-up, not a connection held idle.
     */
    RecordingServer(int idleTimeoutMs) throws Exception {
        this.idleTimeoutMs = idleTimeoutMs;
        server = vertx.createHttpServer();
        if (idleTimeoutMs > 0) {
            server.connectionHandler(this::accepted);
        }
        server.requestHandler(request -> {
            IdleClock clock = arrived(request.connection());
            request.body().onSuccess(body -> {
                synchronized (this) {
                    requests.add(new Request(System.nanoTime(), request.method().name(), request.uri(),
                            request.getHeader("X-Batch"), body.toString()));
                    inFlight++;
                    mostInFlight = Math.max(mostInFlight, inFlight);
                }
                long delay = Long.parseLong(request.params().get("delay") == null ? "0" : request.params().get("delay"));
                int status = Integer.parseInt(request.params().get("status") == null ? "200" : request.params().get("status"));
                Runnable answer = () -> {
                    synchronized (this) {
                        inFlight--;
                    }
                    request.response().setStatusCode(status).end("ok").onComplete(ended -> {
                        synchronized (this) {
                            if (ended.succeeded()) {
                                answered++;
                            }
                            if (clock != null) {
                                clock.answered();
                            }
                        }
                    });
                };
                if (delay > 0) {
                    vertx.setTimer(delay, id -> answer.run());
                } else {
                    answer.run();
                }
            });
        }).listen(0, "127.0.0.1").await(20, TimeUnit.SECONDS);
    }

    /**
     * One connection's idle timeout: armed while the connection has no request in flight, once the
     * server has had a first request (since its start or its warm-up); it closes the connection
     * when it runs out. Guarded by the server's monitor.
     */
    private final class IdleClock {
        private final HttpConnection connection;
        private int requestsInFlight;
        private long timerId = -1;

        IdleClock(HttpConnection connection) {
            this.connection = connection;
        }

        void start() {
            stop();
            timerId = vertx.setTimer(idleTimeoutMs, id -> {
                synchronized (RecordingServer.this) {
                    if (timerId != id) {
                        return;
                    }
                    timerId = -1;
                    idleClosed++;
                }
                connection.close();
            });
        }

        void stop() {
            if (timerId != -1) {
                vertx.cancelTimer(timerId);
                timerId = -1;
            }
        }

        void answered() {
            if (--requestsInFlight == 0) {
                start();
            }
        }
    }

    private synchronized void accepted(HttpConnection connection) {
        IdleClock clock = new IdleClock(connection);
        idleClocks.put(connection, clock);
        connection.closeHandler(closed -> {
            synchronized (this) {
                clock.stop();
                idleClocks.remove(connection);
            }
        });
        if (anyRequest) {
            clock.start();
        }
    }

    /** A request's head arrived on {@code connection}: its idle clock stops until the answer's end. */
    private synchronized IdleClock arrived(HttpConnection connection) {
        IdleClock clock = idleClocks.get(connection);
        if (clock == null) {
            return null;
        }
        clock.requestsInFlight++;
        clock.stop();
        if (!anyRequest) {
            anyRequest = true;
            idleClocks.values().stream().filter(other -> other.requestsInFlight == 0).forEach(IdleClock::start);
        }
        return clock;
    }

    /**
     * Sends a few requests from this JVM and forgets them. why: a cold server takes hundreds of ms
     * over its first requests and then records a backlog as if it had arrived together, which
     * would blur any measure of arrival times.
     */
    void warmUp() throws Exception {
        var client = vertx.createHttpClient();
        for (int i = 0; i < 20; i++) {
            client.request(io.vertx.core.http.HttpMethod.GET, server.actualPort(), "127.0.0.1", "/warm-up")
                    .compose(request -> request.send()).compose(response -> response.body())
                    .await(10, TimeUnit.SECONDS);
        }
        client.close().await(10, TimeUnit.SECONDS);
        synchronized (this) {
            requests.clear();
            answered = 0;
            anyRequest = false;
        }
    }

    String url(String pathAndQuery) {
        return "http://127.0.0.1:" + server.actualPort() + pathAndQuery;
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    synchronized int answered() {
        return answered;
    }

    /** Connections this server closed because they were idle longer than its idle timeout. */
    synchronized int idleClosed() {
        return idleClosed;
    }

    /** The most requests received and not yet answered at one time since the last call (then reset). */
    synchronized int takeMostInFlight() {
        int most = mostInFlight;
        mostInFlight = inFlight;
        return most;
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }
}
