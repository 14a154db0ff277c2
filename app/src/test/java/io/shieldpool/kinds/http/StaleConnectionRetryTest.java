package io.shieldpool.kinds.http;

import io.netty.handler.codec.PrematureChannelClosureException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.SocketException;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class StaleConnectionRetryTest {

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
    void idempotentMethodsMayBeSentAgain(String method) {
        assertThat(new StaleConnectionRetry(method, Map.of()).replayable()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PATCH"})
    void otherMethodsOnlyWithAnIdempotencyKey(String method) {
        assertThat(new StaleConnectionRetry(method, Map.of("Content-Type", "application/json")).replayable()).isFalse();
        assertThat(new StaleConnectionRetry(method, Map.of("Idempotency-Key", "k1")).replayable()).isTrue();
        assertThat(new StaleConnectionRetry(method, Map.of("x-idempotency-key", "k1")).replayable()).isTrue();
    }

    @Test
    void onlyALostConnectionCounts() {
        assertThat(StaleConnectionRetry.connectionLost(new HttpClosedException("Connection was closed"))).isTrue();
        assertThat(StaleConnectionRetry.connectionLost(new SocketException("Connection reset"))).isTrue();
        assertThat(StaleConnectionRetry.connectionLost(new PrematureChannelClosureException("headers"))).isFalse();
        assertThat(StaleConnectionRetry.connectionLost(new TimeoutException())).isFalse();
        assertThat(StaleConnectionRetry.connectionLost(new VertxException("Request was reset"))).isFalse();
    }
}
