package io.shieldpool.view;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.Optional;

/**
 * The pool as the parts that report on it see it (admin server, metrics, systemd): read-only,
 * callable from any thread. Futures complete on the pool's control context; nothing here can
 * change the pool.
 */
public interface PoolView {

    /** The lifecycle state right now; thread-safe and immediate. */
    LifecycleState state();

    /** Completes once the control's event loop has run a no-op: it is responsive. */
    Future<Void> ping();

    /**
     * A consistent status: each shard is read in one visit to its thread, so its counts, census
     * and workers agree. {@code workerLimit} bounds the per-worker list (a million would not help).
     */
    Future<PoolStatus> status(int workerLimit);

    /**
     * The busy worker that has gone longest without progress, if any is busy. Visits every
     * shard's thread, so it completes only while they all answer.
     */
    Future<Optional<WorkerStatus>> slowestBusyWorker();

    /** The running configuration's {@code systemd.stall-after} (it may change on a reload). */
    Duration stallAfter();
}
