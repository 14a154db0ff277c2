package io.shieldpool.e2e;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;

import java.util.ArrayList;
import java.util.List;
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

    RecordingServer() throws Exception {
        this(0);
    }

    /**
     * @param idleTimeoutMs closes a connection idle that long (0: never), as servers with a short
     *                      keep-alive timeout do (Node.js and Apache httpd: 5 s)
     */
    RecordingServer(int idleTimeoutMs) throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setIdleTimeout(idleTimeoutMs)
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)).requestHandler(request -> request.body().onSuccess(body -> {
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
                request.response().setStatusCode(status).end("ok").onSuccess(v -> {
                    synchronized (this) {
                        answered++;
                    }
                });
            };
            if (delay > 0) {
                vertx.setTimer(delay, id -> answer.run());
            } else {
                answer.run();
            }
        })).listen(0, "127.0.0.1").await(20, TimeUnit.SECONDS);
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
