package io.shieldpool.kinds.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The http kind's client growing with the pool, against a real local server. */
@Timeout(60)
class PooledClientTest {

    private Vertx vertx;
    private HttpServer server;

    @BeforeEach
    void startServer() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(request -> request.response().end("ok"))
                .listen(0, "127.0.0.1").await(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(20, TimeUnit.SECONDS);
    }

    private Future<Integer> get(HttpClient client) {
        return client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
                .compose(request -> request.send()).compose(response -> response.body().map(b -> response.statusCode()));
    }

    @Test
    void theOldClientServesItsSectionsToTheEndAndClosesAfterTheLast() throws Exception {
        PooledClient pooled = new PooledClient(vertx, 2);
        assertThat(pooled.capacity()).isEqualTo(2);
        PooledClient.Lease first = pooled.lease();
        PooledClient.Lease second = pooled.lease();
        pooled.fit(12);
        assertThat(pooled.capacity()).isEqualTo(12);
        PooledClient.Lease third = pooled.lease();
        assertThat(third.client()).isNotSameAs(first.client());
        first.release();
        first.release(); // once only: the second section still holds the old client
        assertThat(get(second.client()).await(20, TimeUnit.SECONDS)).isEqualTo(200);
        second.release();
        HttpClient old = second.client();
        await().atMost(Duration.ofSeconds(20)).until(() -> refused(old));
        assertThat(get(third.client()).await(20, TimeUnit.SECONDS)).isEqualTo(200);
        pooled.close().await(20, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(20)).until(() -> refused(third.client()));
    }

    @Test
    void aSmallerPoolKeepsTheClientAndASectionOnTheCurrentOneNeverClosesIt() throws Exception {
        PooledClient pooled = new PooledClient(vertx, 8);
        PooledClient.Lease lease = pooled.lease();
        pooled.fit(3);
        pooled.fit(0);
        assertThat(pooled.capacity()).isEqualTo(8);
        lease.release();
        PooledClient.Lease next = pooled.lease();
        assertThat(next.client()).isSameAs(lease.client());
        assertThat(get(next.client()).await(20, TimeUnit.SECONDS)).isEqualTo(200);
    }

    /** A closed client refuses requests (Vert.x throws at once, or fails the future). */
    private boolean refused(HttpClient client) {
        try {
            get(client).await(20, TimeUnit.SECONDS);
            return false;
        } catch (Exception closed) {
            return true;
        }
    }
}
