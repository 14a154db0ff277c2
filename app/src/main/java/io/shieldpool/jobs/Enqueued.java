package io.shieldpool.jobs;

/**
 * What an enqueue did with one {@link NewJob}.
 *
 * @param id      the new job's id, or the id of the job that already had its unique key
 * @param created false when the unique key was taken: nothing was added
 */
public record Enqueued(long id, boolean created) {
}
