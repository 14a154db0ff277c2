package io.shieldpool.kinds;

import io.vertx.core.Vertx;

/**
 * The configured work kind once its preflight has passed (a plug-in loaded, the C library checked):
 * all that is left is to start it on the daemon's Vert.x.
 */
@FunctionalInterface
public interface PreparedKind {

    /** Starts the kind's runtime; called once, before the pool starts. */
    KindRuntime start(Vertx vertx);
}
