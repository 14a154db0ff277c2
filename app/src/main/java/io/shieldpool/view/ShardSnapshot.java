package io.shieldpool.view;

/**
 * Counts of one shard (or, summed, of the pool) taken on its own thread, so they are consistent:
 * {@code started == completed + failed + timedOut + abandoned + inFlight}.
 */
public record ShardSnapshot(long started, long completed, long failed, long timedOut, long abandoned, long inFlight,
                            int workers, int busy) {

    public static final ShardSnapshot EMPTY = new ShardSnapshot(0, 0, 0, 0, 0, 0, 0, 0);

    public ShardSnapshot plus(ShardSnapshot other) {
        return new ShardSnapshot(started + other.started, completed + other.completed, failed + other.failed,
                timedOut + other.timedOut,
                abandoned + other.abandoned, inFlight + other.inFlight, workers + other.workers, busy + other.busy);
    }
}
