package io.shieldpool.kinds.http;

import io.netty.handler.codec.PrematureChannelClosureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpConnection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the pooled clients' connections have been through, for the retry of a request that met a
 * kept-alive connection the server had closed ({@link StaleConnectionRetry}): whether a connection
 * carried a request before (it is <em>reused</em>), whether any byte of an answer arrived before it
 * closed, and when it has closed. Thread-safe: connections run on their own event loops, sections
 * on their shards'.
 */
final class KeptAliveConnections {

    private final Map<HttpConnection, Tracked> open = new ConcurrentHashMap<>();

    /** The pooled clients' connect handler: runs once per new connection, on its event loop. */
    void opened(HttpConnection connection) {
        Tracked tracked = new Tracked();
        open.put(connection, tracked);
        // why a handler at all: without one Vert.x logs every reset of a connection at ERROR with a
        // stack trace, though the request that met it reports it (and may be retried).
        connection.exceptionHandler(cause -> {
            if (cause instanceof PrematureChannelClosureException) {
                // Netty's decoder held part of a status line or headers when the connection closed:
                // the server had begun to answer, so the request reached it.
                tracked.answerBegun = true;
            }
        });
        connection.closeHandler(ignored -> {
            open.remove(connection);
            tracked.closed.tryComplete();
        });
    }

    /**
     * A request was given {@code connection}: what the retry needs to know of it. A connection
     * this tracker never saw open (none of the pooled clients' own) counts as fresh.
     */
    Use take(HttpConnection connection) {
        Tracked tracked = open.get(connection);
        if (tracked == null) {
            return FRESH_UNTRACKED;
        }
        synchronized (tracked) {
            return new Use(tracked.requests++ > 0, tracked);
        }
    }

    /** Connections open now (for tests). */
    int openConnections() {
        return open.size();
    }

    private static final Use FRESH_UNTRACKED = new Use(false, null);

    /** One request's use of a connection. */
    static final class Use {
        private final boolean reused;
        private final Tracked tracked;

        private Use(boolean reused, Tracked tracked) {
            this.reused = reused;
            this.tracked = tracked;
        }

        /** Whether the connection had carried an earlier request (it came back from the pool). */
        boolean reused() {
            return reused;
        }

        /** Whether the connection has closed already (a connection this tracker never saw: no). */
        boolean closed() {
            return tracked != null && tracked.closed.future().isComplete();
        }

        /**
         * Completes, once the connection has closed, with whether no byte of an answer had arrived
         * on it. why wait for the close: at a reset Vert.x fails the request first, and Netty's
         * decoder reports the part of an answer it held only as the connection closes.
         */
        Future<Boolean> closedBeforeAnyAnswer() {
            return tracked == null ? Future.succeededFuture(false) : tracked.closed.future().map(v -> !tracked.answerBegun);
        }
    }

    private static final class Tracked {
        final Promise<Void> closed = Promise.promise();
        volatile boolean answerBegun;
        /** Guarded by this. */
        int requests;
    }
}
