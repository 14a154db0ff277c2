package io.shieldpool.jobs;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(1), 0.2);

    @Test
    void theWaitDoublesPerAttemptUpToTheCap() {
        assertThat(policy.delayAfter(1, () -> 0.5)).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.delayAfter(2, () -> 0.5)).isEqualTo(Duration.ofSeconds(2));
        assertThat(policy.delayAfter(4, () -> 0.5)).isEqualTo(Duration.ofSeconds(8));
        assertThat(policy.delayAfter(7, () -> 0.5)).isEqualTo(Duration.ofMinutes(1));
        assertThat(policy.delayAfter(10_000, () -> 0.5)).as("no overflow").isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void jitterMovesTheWaitByAtMostItsFractionEitherWay() {
        assertThat(policy.delayAfter(2, () -> 0.0)).isEqualTo(Duration.ofMillis(1600));
        assertThat(policy.delayAfter(2, () -> 0.999_999)).isBetween(Duration.ofMillis(2399), Duration.ofMillis(2400));
        assertThat(new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(1), 0).delayAfter(3, Math::random))
                .isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void theNextAttemptIsThatFarFromNow() {
        Instant now = Instant.parse("2026-12-01T10:00:00Z");
        assertThat(policy.nextAttemptAt(now, 1, () -> 0.5)).isEqualTo(now.plusSeconds(1));
    }
}
