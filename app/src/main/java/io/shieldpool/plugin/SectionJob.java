package io.shieldpool.plugin;

import java.util.Objects;

/**
 * The durable job a section runs, when the daemon takes its sections from a job store
 * ({@code shieldpool.jobs.store}). Delivery is at least once: a job whose daemon died before its
 * ack runs again, with a higher attempt. Make side effects idempotent on {@link #id()} (and
 * {@link #attempt()} where a retry must be told apart).
 *
 * @param id          the job's id, unique in its store and never reused
 * @param attempt     this attempt's number, from 1
 * @param maxAttempts attempts allowed; a failure of the last one makes the job dead
 * @param queue       the queue it came from
 * @param payload     its payload as JSON text (parse it with the JSON library of your choice)
 */
public record SectionJob(long id, int attempt, int maxAttempts, String queue, String payload) {

    public SectionJob {
        Objects.requireNonNull(queue);
        Objects.requireNonNull(payload);
    }
}
