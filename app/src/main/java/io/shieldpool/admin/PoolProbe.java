package io.shieldpool.admin;

import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.control.Supervisor;
import io.vertx.core.Future;

/**
 * What the admin server asks of the pool. The supervisor answers in production; a test may put a
 * stand-in here for what cannot be had on demand (a wedged event loop).
 */
public interface PoolProbe {

    /** The lifecycle state right now; thread-safe and immediate. */
    LifecycleState state();

    /** Completes once the supervisor's event loop has answered. */
    Future<Void> ping();

    /** A consistent status with at most {@code workerLimit} workers listed. */
    Future<PoolStatus> status(int workerLimit);

    /** The supervisor itself. */
    static PoolProbe of(Supervisor supervisor) {
        return new PoolProbe() {
            @Override
            public LifecycleState state() {
                return supervisor.state();
            }

            @Override
            public Future<Void> ping() {
                return supervisor.ping();
            }

            @Override
            public Future<PoolStatus> status(int workerLimit) {
                return supervisor.status(workerLimit);
            }
        };
    }
}
