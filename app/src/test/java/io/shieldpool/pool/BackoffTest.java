package io.shieldpool.pool;

import io.shieldpool.config.ShieldpoolConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {

    private static Backoff backoff(Duration initial, Duration max) {
        return new Backoff(new ShieldpoolConfig.Backoff(initial, max));
    }

    @Test
    void doublesFromInitialUpToMax() {
        Backoff backoff = backoff(Duration.ofMillis(100), Duration.ofSeconds(1));
        assertThat(backoff.delayNanos(1)).isEqualTo(Duration.ofMillis(100).toNanos());
        assertThat(backoff.delayNanos(2)).isEqualTo(Duration.ofMillis(200).toNanos());
        assertThat(backoff.delayNanos(3)).isEqualTo(Duration.ofMillis(400).toNanos());
        assertThat(backoff.delayNanos(4)).isEqualTo(Duration.ofMillis(800).toNanos());
        assertThat(backoff.delayNanos(5)).isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(backoff.delayNanos(50)).isEqualTo(Duration.ofSeconds(1).toNanos());
    }

    @Test
    void neverOverflowsHoweverManyFailures() {
        Backoff backoff = backoff(Duration.ofSeconds(3), Duration.ofDays(365));
        assertThat(backoff.delayNanos(Integer.MAX_VALUE)).isEqualTo(Duration.ofDays(365).toNanos());
        for (int n = 1; n < 200; n++) {
            assertThat(backoff.delayNanos(n)).isPositive().isLessThanOrEqualTo(Duration.ofDays(365).toNanos());
        }
    }

    @Test
    void initialEqualToMaxIsConstant() {
        Backoff backoff = backoff(Duration.ofMillis(5), Duration.ofMillis(5));
        assertThat(backoff.delayNanos(1)).isEqualTo(backoff.delayNanos(10));
    }

    @Test
    void zeroFailuresIsABug() {
        assertThatThrownBy(() -> backoff(Duration.ofMillis(1), Duration.ofMillis(2)).delayNanos(0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
