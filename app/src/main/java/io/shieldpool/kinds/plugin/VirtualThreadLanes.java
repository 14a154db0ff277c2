package io.shieldpool.kinds.plugin;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Vert.x virtual-thread contexts for blocking sections, one per section running at the same time.
 * why: a Vert.x virtual-thread context runs its tasks one after another unless they await, so two
 * sections sharing one would serialize on any plain blocking call (Thread.sleep, JDBC). A lane is
 * taken for a section and given back when its method returns; lanes are made on demand (a small
 * verticle each) and kept, so their number is the peak of concurrent blocking sections.
 */
final class VirtualThreadLanes {

    private final Vertx vertx;
    private final ConcurrentLinkedQueue<Context> free = new ConcurrentLinkedQueue<>();

    VirtualThreadLanes(Vertx vertx) {
        this.vertx = vertx;
    }

    /** A lane for one section; completes on the caller's context. */
    Future<Context> take() {
        Context lane = free.poll();
        if (lane != null) {
            return Future.succeededFuture(lane);
        }
        Lane verticle = new Lane();
        return vertx.deployVerticle(verticle, new DeploymentOptions().setThreadingModel(ThreadingModel.VIRTUAL_THREAD))
                .map(id -> verticle.home());
    }

    /** Gives a lane back once its section's method has returned. Any thread. */
    void giveBack(Context lane) {
        free.add(lane);
    }

    /** A verticle deployed only to own a virtual-thread context. */
    private static final class Lane extends VerticleBase {
        Context home() {
            return context;
        }
    }
}
