package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A real HTTP client for a daemon's admin server, at the port its {@code admin.listening} event names. */
final class AdminClient implements AutoCloseable {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final int port;

    AdminClient(int port) {
        this.port = port;
    }

    /** Waits for the daemon's admin server to listen, and connects to it. */
    static AdminClient of(DaemonProcess daemon) throws InterruptedException {
        return new AdminClient(daemon.awaitEvent("admin.listening", Duration.ofSeconds(20)).getInteger("port"));
    }

    int port() {
        return port;
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonObject json(String path, String... headers) throws IOException, InterruptedException {
        HttpResponse<String> response = get(path, headers);
        if (response.statusCode() != 200) {
            throw new AssertionError(path + " answered " + response.statusCode() + ": " + response.body());
        }
        return new JsonObject(response.body());
    }

    @Override
    public void close() {
        http.close();
    }
}
