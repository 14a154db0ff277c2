package io.shieldpool.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.function.DoubleSupplier;

/**
 * When a failed job's next attempt may run: {@code backoff * 2^(attempt-1)}, capped at
 * {@code maxBackoff}, then moved at random by up to {@code jitter} of itself either way.
 *
 * @param backoff    wait after the first failed attempt
 * @param maxBackoff cap on the doubling
 * @param jitter     0..1
 */
public record RetryPolicy(Duration backoff, Duration maxBackoff, double jitter) {

    /** The wait after the failure of attempt {@code attempt} (1-based); {@code random} in [0, 1). */
    public Duration delayAfter(int attempt, DoubleSupplier random) {
        double delay = Math.min(maxBackoff.toMillis(), backoff.toMillis() * Math.pow(2, Math.max(0, attempt - 1)));
        double factor = 1 + jitter * (2 * random.getAsDouble() - 1);
        return Duration.ofMillis(Math.max(0, Math.round(delay * factor)));
    }

    public Instant nextAttemptAt(Instant now, int attempt, DoubleSupplier random) {
        return now.plus(delayAfter(attempt, random));
    }
}
