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
        assertThat(backoff.baseNanos(1)).isEqualTo(Duration.ofMillis(100).toNanos());
        assertThat(backoff.baseNanos(2)).isEqualTo(Duration.ofMillis(200).toNanos());
        assertThat(backoff.baseNanos(3)).isEqualTo(Duration.ofMillis(400).toNanos());
        assertThat(backoff.baseNanos(4)).isEqualTo(Duration.ofMillis(800).toNanos());
        assertThat(backoff.baseNanos(5)).isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(backoff.baseNanos(50)).isEqualTo(Duration.ofSeconds(1).toNanos());
    }

    @Test
    void neverOverflowsHoweverManyFailures() {
        Backoff backoff = backoff(Duration.ofSeconds(3), Duration.ofDays(365));
        assertThat(backoff.baseNanos(Integer.MAX_VALUE)).isEqualTo(Duration.ofDays(365).toNanos());
        for (int n = 1; n < 200; n++) {
            assertThat(backoff.baseNanos(n)).isPositive().isLessThanOrEqualTo(Duration.ofDays(365).toNanos());
        }
    }

    @Test
    void initialEqualToMaxIsConstant() {
        Backoff backoff = backoff(Duration.ofMillis(5), Duration.ofMillis(5));
        assertThat(backoff.baseNanos(1)).isEqualTo(backoff.baseNanos(10));
    }

    @Test
    void zeroFailuresIsABug() {
        assertThatThrownBy(() -> backoff(Duration.ofMillis(1), Duration.ofMillis(2)).baseNanos(0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Issue 13: 50 workers failing together must not all retry in the same millisecond. */
    @Test
    void fiftyWorkersFailingTogetherSpreadTheirRetriesOverHalfTheBase() {
        Backoff backoff = new Backoff(new ShieldpoolConfig.Backoff(Duration.ofMillis(100), Duration.ofSeconds(30)), 42);
        for (int failures = 1; failures <= 12; failures++) {
            long base = backoff.baseNanos(failures);
            java.util.Set<Long> pauses = new java.util.TreeSet<>();
            java.util.Set<Long> milliseconds = new java.util.HashSet<>();
            for (long worker = 1; worker <= 50; worker++) {
                long pause = backoff.delayNanos(worker, failures);
                assertThat(pause).isBetween(base / 2, base - 1);
                pauses.add(pause);
                milliseconds.add(pause / 1_000_000);
            }
            // 50 draws over 32 steps: at least 20 distinct steps, spanning most of [base/2, base).
            assertThat(pauses).as("distinct pauses after %d failures", failures).hasSizeGreaterThanOrEqualTo(20);
            long spread = ((java.util.TreeSet<Long>) pauses).last() - ((java.util.TreeSet<Long>) pauses).first();
            assertThat(spread).isGreaterThan(base * 3 / 8);
            assertThat(milliseconds).hasSizeGreaterThanOrEqualTo(20);
        }
    }

    @Test
    void aWorkersPausesAreReproducibleFromItsSeedAndDifferAcrossSeeds() {
        var settings = new ShieldpoolConfig.Backoff(Duration.ofMillis(100), Duration.ofSeconds(30));
        Backoff one = new Backoff(settings, 7);
        Backoff again = new Backoff(settings, 7);
        Backoff other = new Backoff(settings, 8);
        int differ = 0;
        for (long worker = 1; worker <= 50; worker++) {
            assertThat(one.delayNanos(worker, 3)).isEqualTo(again.delayNanos(worker, 3));
            differ += one.delayNanos(worker, 3) != other.delayNanos(worker, 3) ? 1 : 0;
        }
        assertThat(differ).isGreaterThan(40);
    }

    @Test
    void theJitterNeverExceedsMax() {
        Backoff backoff = new Backoff(new ShieldpoolConfig.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)), 1);
        for (long worker = 1; worker <= 1000; worker++) {
            assertThat(backoff.delayNanos(worker, 40)).isBetween(Duration.ofMillis(500).toNanos(),
                    Duration.ofSeconds(1).toNanos() - 1);
        }
    }
}
