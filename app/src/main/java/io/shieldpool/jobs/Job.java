package io.shieldpool.jobs;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One job as the store holds it. A claimed job is a lease: {@link #owner} and {@link #attempt}
 * identify it, and an ack carrying another attempt or owner is rejected (fencing).
 *
 * @param id          unique, assigned at enqueue, increasing
 * @param queue       the queue it waits in
 * @param payload     its payload, JSON text as enqueued
 * @param attempt     attempts begun so far (the running attempt's number while running; 0 before the first claim)
 * @param maxAttempts attempts allowed; a failure on attempt {@code maxAttempts} makes it dead
 * @param runAt       not claimed before this instant
 * @param state       where it is in its life
 * @param lastError   what the last failed attempt said
 * @param uniqueKey   the key it was enqueued with: no second job with that key exists while this one is kept
 * @param owner       who holds it while running ({@link JobOwner#id()})
 * @param createdAt   when it was enqueued
 * @param finishedAt  when it became done or dead
 */
public record Job(long id, String queue, String payload, int attempt, int maxAttempts, Instant runAt,
                  JobState state, Optional<String> lastError, Optional<String> uniqueKey, Optional<String> owner,
                  Instant createdAt, Optional<Instant> finishedAt) {

    public Job {
        Objects.requireNonNull(queue);
        Objects.requireNonNull(payload);
        Objects.requireNonNull(runAt);
        Objects.requireNonNull(state);
        Objects.requireNonNull(lastError);
        Objects.requireNonNull(uniqueKey);
        Objects.requireNonNull(owner);
        Objects.requireNonNull(createdAt);
        Objects.requireNonNull(finishedAt);
    }

    /** The payload parsed as a JSON value: an object, array, string, number, boolean or null. */
    public Object payloadValue() {
        return io.vertx.core.json.Json.decodeValue(payload);
    }

    /** The payload as a JSON object, or an empty object when it is another JSON value. */
    public JsonObject payloadObject() {
        return payloadValue() instanceof JsonObject object ? object : new JsonObject();
    }

    /** Whether a failure of this attempt is final. */
    public boolean lastAttempt() {
        return attempt >= maxAttempts;
    }
}
