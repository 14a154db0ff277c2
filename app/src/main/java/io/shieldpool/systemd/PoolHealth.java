package io.shieldpool.systemd;

import io.shieldpool.view.PoolView;
import io.shieldpool.view.WorkerStatus;
import io.vertx.core.Future;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Whether the pool is alive in the sense the watchdog vouches for: the supervisor's event loop
 * answers, every shard's loop answers, and no busy worker has gone {@code systemd.stall-after}
 * without progress. Asked from the watchdog's own thread, never from an event loop: it waits.
 */
final class PoolHealth {

    private final PoolView pool;

    PoolHealth(PoolView pool) {
        this.pool = pool;
    }

    /**
     * @param answerWithin how long each answer may take
     * @return why the pool is not healthy, or empty if it is
     */
    Optional<Problem> problem(Duration answerWithin) throws InterruptedException {
        long millis = answerWithin.toMillis();
        if (!answered(pool.ping(), millis)) {
            return Optional.of(new Problem("supervisor",
                    "the supervisor's event loop did not answer within " + millis + " ms"));
        }
        Future<Optional<WorkerStatus>> slowestFuture = pool.slowestBusyWorker();
        if (!answered(slowestFuture, millis)) {
            return Optional.of(new Problem("shard", "a worker event loop (shard) did not answer within " + millis + " ms"));
        }
        Optional<WorkerStatus> slowest = slowestFuture.result();
        Duration bound = pool.stallAfter();
        if (slowest.isPresent() && slowest.get().sinceProgressMs() >= bound.toMillis()) {
            WorkerStatus worker = slowest.get();
            return Optional.of(new Problem("worker " + worker.id() + " section " + worker.section(),
                    "worker " + worker.id() + " has made no progress for " + worker.sinceProgressMs()
                    + " ms in section " + worker.section() + " (after step " + worker.stepsDone()
                    + "); shieldpool.systemd.stall-after is " + bound.toMillis() + " ms"));
        }
        return Optional.empty();
    }

    /**
     * @param key     what is wrong, stable while the same thing stays wrong (so it is logged once)
     * @param message the sentence for the log
     */
    record Problem(String key, String message) {
    }

    private static boolean answered(Future<?> future, long millis) throws InterruptedException {
        try {
            future.toCompletionStage().toCompletableFuture().get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        }
    }
}
