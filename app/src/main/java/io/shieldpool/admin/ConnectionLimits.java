package io.shieldpool.admin;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * Bounds what clients can hold on the admin server: at most {@code maxConnections} open at once,
 * and each request's head due within {@code headerTimeout} of connecting or of the previous
 * response (the idle timeout, set on the server itself, bounds silence in both directions).
 * why eviction rather than refusal at the cap: 500 sockets that never send anything would
 * otherwise lock the probes out; a new connection instead closes the one idle the longest (never
 * one with a request in flight), so /healthz keeps answering however many idle sockets are held.
 * A new connection is refused only when every slot has a request in flight. Used only on the admin
 * server's event loop: no lock.
 */
final class ConnectionLimits {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final long WARN_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

    private final Vertx vertx;
    private final int maxConnections;
    private final long headerTimeoutMs;
    /** Open connections, least recently active first. */
    private final LinkedHashMap<HttpConnection, Slot> open = new LinkedHashMap<>(64, 0.75f, true);
    private long lastWarnNanos;
    private boolean warnedBefore;
    private long closedSinceWarn;

    /** One connection's state: requests in flight, and the timer waiting for its next request head. */
    private static final class Slot {
        int inFlight;
        long headerTimer = -1;
    }

    ConnectionLimits(Vertx vertx, int maxConnections, Duration headerTimeout) {
        this.vertx = vertx;
        this.maxConnections = maxConnections;
        this.headerTimeoutMs = Math.max(1, headerTimeout.toMillis());
    }

    /** The server's connection handler. */
    void connected(HttpConnection connection) {
        if (open.size() >= maxConnections && !evictIdlest()) {
            limited("every one of the " + maxConnections + " connections has a request in flight: the new one is closed");
            connection.close();
            return;
        }
        Slot slot = new Slot();
        open.put(connection, slot);
        connection.closeHandler(v -> {
            Slot gone = open.remove(connection);
            if (gone != null && gone.headerTimer >= 0) {
                vertx.cancelTimer(gone.headerTimer);
            }
        });
        awaitHead(connection, slot);
    }

    /** Called first for every request: its head has arrived. */
    void requestArrived(HttpServerRequest request) {
        HttpConnection connection = request.connection();
        Slot slot = open.get(connection); // also marks it most recently active
        if (slot == null) {
            return;
        }
        if (slot.headerTimer >= 0) {
            vertx.cancelTimer(slot.headerTimer);
            slot.headerTimer = -1;
        }
        slot.inFlight++;
        request.response().endHandler(v -> {
            Slot now = open.get(connection);
            if (now != null && --now.inFlight == 0) {
                awaitHead(connection, now);
            }
        });
    }

    int openConnections() {
        return open.size();
    }

    private void awaitHead(HttpConnection connection, Slot slot) {
        slot.headerTimer = vertx.setTimer(headerTimeoutMs, id -> {
            slot.headerTimer = -1;
            if (slot.inFlight == 0) {
                connection.close(); // no request head within request-header-timeout
            }
        });
    }

    /** Closes the connection idle the longest; false when every one has a request in flight. */
    private boolean evictIdlest() {
        for (Iterator<java.util.Map.Entry<HttpConnection, Slot>> it = open.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (entry.getValue().inFlight == 0) {
                it.remove();
                if (entry.getValue().headerTimer >= 0) {
                    vertx.cancelTimer(entry.getValue().headerTimer);
                }
                entry.getKey().close();
                limited("connection cap of " + maxConnections + " reached: the connection idle the longest was closed");
                return true;
            }
        }
        return false;
    }

    private void limited(String what) {
        long now = System.nanoTime();
        closedSinceWarn++;
        if (warnedBefore && now - lastWarnNanos < WARN_INTERVAL_NANOS) {
            return;
        }
        log.atWarn().addKeyValue("event", "admin.connection-limit").addKeyValue("max_connections", maxConnections)
                .addKeyValue("closed", closedSinceWarn)
                .log("admin: {} (shieldpool.admin.max-connections); {} connection(s) closed since the last such line; "
                        + "at most one line per 10 s", what, closedSinceWarn);
        warnedBefore = true;
        lastWarnNanos = now;
        closedSinceWarn = 0;
    }
}
