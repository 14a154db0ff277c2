package io.shieldpool.kinds.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The http kind's Vert.x client, with room for one connection per worker however the pool is
 * resized. When the pool outgrows the client, a bigger client takes the new sections and the old
 * one is closed once the last section that leased it has ended. Thread-safe: sections lease from
 * every shard, resizes come from the supervisor.
 *
 * <p>why a new client rather than one sized for any pool: a Vert.x pool's limit cannot change
 * once built, and Vert.x allocates a slot array of that size per target host up front, so "room
 * for any pool size" would cost memory for connections never made, and still cap a large pool.
 * Resizes are rare; a new client costs only its first connections' set-up. It never shrinks: idle
 * connections of a smaller pool close by the keep-alive timeout.
 */
final class PooledClient {

    private final Vertx vertx;
    private final KeptAliveConnections connections = new KeptAliveConnections();
    private final Set<Generation> retiring = new HashSet<>();
    private Generation current;
    private boolean closed;

    PooledClient(Vertx vertx, int poolSize) {
        this.vertx = vertx;
        this.current = new Generation(build(capacityFor(poolSize)), capacityFor(poolSize));
    }

    private static int capacityFor(int poolSize) {
        return Math.max(1, poolSize);
    }

    private HttpClientAgent build(int capacity) {
        // why an unbounded wait queue: each worker has at most one request, so the queue only ever
        // holds the requests of a resize's overlap (retiring workers still sending while new ones
        // start); a bound would fail those sections instead of letting them wait a moment.
        return vertx.httpClientBuilder().with(new HttpClientOptions().setKeepAlive(true))
                .with(new PoolOptions().setHttp1MaxSize(capacity).setMaxWaitQueueSize(-1))
                .withConnectHandler(connections::opened).build();
    }

    /** What the clients' pooled connections have been through (reused, closed before an answer). */
    KeptAliveConnections connections() {
        return connections;
    }

    /** Makes room for {@code poolSize} connections at once; any thread. */
    void fit(int poolSize) {
        Generation old;
        synchronized (this) {
            if (closed || capacityFor(poolSize) <= current.capacity) {
                return;
            }
            old = current;
            current = new Generation(build(capacityFor(poolSize)), capacityFor(poolSize));
            retiring.add(old);
        }
        old.retire();
    }

    /** Connections the current client may hold at once. */
    synchronized int capacity() {
        return current.capacity;
    }

    /** The client for one section; {@link Lease#release() release} it when the section has ended. */
    synchronized Lease lease() {
        current.users++;
        return new Lease(current);
    }

    /** Closes every client; after the pool has stopped. */
    Future<Void> close() {
        List<Future<Void>> closing = new ArrayList<>();
        synchronized (this) {
            closed = true;
            closing.add(current.client.close());
            retiring.forEach(generation -> closing.add(generation.client.close()));
            retiring.clear();
        }
        return Future.join(closing).mapEmpty();
    }

    /** One client and the sections using it. */
    private final class Generation {
        final HttpClientAgent client;
        final int capacity;
        /** Guarded by the PooledClient's lock. */
        int users;
        boolean retired;

        Generation(HttpClientAgent client, int capacity) {
            this.client = client;
            this.capacity = capacity;
        }

        void retire() {
            synchronized (PooledClient.this) {
                retired = true;
                if (users > 0) {
                    return;
                }
                retiring.remove(this);
            }
            client.close();
        }

        void released() {
            synchronized (PooledClient.this) {
                users--;
                if (!retired || users > 0 || !retiring.remove(this)) {
                    return;
                }
            }
            client.close();
        }
    }

    /** A section's use of a client; released once, further calls do nothing. */
    final class Lease {
        private final Generation generation;
        private boolean released;

        private Lease(Generation generation) {
            this.generation = generation;
        }

        HttpClientAgent client() {
            return generation.client;
        }

        /** The section has ended: an old client whose last section this was is closed. */
        void release() {
            synchronized (PooledClient.this) {
                if (released) {
                    return;
                }
                released = true;
            }
            generation.released();
        }
    }
}
