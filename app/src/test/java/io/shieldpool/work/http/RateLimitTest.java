package io.shieldpool.work.http;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The max-rate spacing, on an injected clock. */
class RateLimitTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void requestsAreSpacedOneIntervalApartWithoutBurstCredit() {
        RateLimit limit = new RateLimit(4, now::get); // one per 250 ms
        assertThat(limit.reserve()).isZero();
        assertThat(limit.reserve()).isEqualTo(250_000_000L);
        assertThat(limit.reserve()).isEqualTo(500_000_000L);
        now.addAndGet(10_000_000_000L); // idle for 10 s: no credit for a burst
        assertThat(limit.reserve()).isZero();
        assertThat(limit.reserve()).isEqualTo(250_000_000L);
    }

    @Test
    void zeroMeansNoLimitAndANewRateAppliesToLaterRequests() {
        RateLimit limit = new RateLimit(0, now::get);
        for (int i = 0; i < 100; i++) {
            assertThat(limit.reserve()).isZero();
        }
        limit.setRate(10);
        assertThat(limit.reserve()).isZero();
        assertThat(limit.reserve()).isEqualTo(100_000_000L);
    }

    @Test
    void lateTurnsAreSpacedAgainWhenTheyAreClaimed() {
        RateLimit limit = new RateLimit(10, now::get); // one per 100 ms
        assertThat(limit.reserve()).isZero();
        assertThat(limit.reserve()).isEqualTo(100_000_000L);
        assertThat(limit.claim()).isZero();
        // The second turn's timer fires late, together with the first send: it must wait again.
        assertThat(limit.claim()).isEqualTo(100_000_000L);
        now.addAndGet(60_000_000L);
        assertThat(limit.claim()).isEqualTo(40_000_000L);
        now.addAndGet(40_000_000L);
        assertThat(limit.claim()).isZero();
    }
}
