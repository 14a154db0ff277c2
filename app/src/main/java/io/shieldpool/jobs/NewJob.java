package io.shieldpool.jobs;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A job to enqueue.
 *
 * @param queue       the queue, non-empty
 * @param payload     JSON text (any JSON value); checked here so a store never holds a payload no section can read
 * @param maxAttempts attempts allowed, >= 1
 * @param runAt       not claimed before this instant (now: at once)
 * @param uniqueKey   when present, enqueueing a key that a kept job already has is a no-op that names that job
 */
public record NewJob(String queue, String payload, int maxAttempts, Instant runAt, Optional<String> uniqueKey) {

    /**
     * The longest delay an enqueue accepts, as for every duration of the config. why: longer is a
     * typo, and a run-at past ~292 million years has no epoch milliseconds for the store to bind.
     */
    public static final Duration MAX_DELAY = Duration.ofDays(365);

    public NewJob {
        Objects.requireNonNull(queue);
        Objects.requireNonNull(payload);
        Objects.requireNonNull(runAt);
        Objects.requireNonNull(uniqueKey);
        if (queue.isBlank()) {
            throw new IllegalArgumentException("queue: \"" + queue + "\" (expected: a non-empty name)");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("max-attempts: " + maxAttempts + " (expected: an integer >= 1)");
        }
        try {
            Json.decodeValue(payload);
        } catch (DecodeException e) {
            throw new IllegalArgumentException("payload: " + abbreviate(payload) + " (expected: a JSON value)");
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }
}
