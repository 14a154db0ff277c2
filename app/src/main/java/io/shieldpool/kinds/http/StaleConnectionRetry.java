package io.shieldpool.kinds.http;

import io.vertx.core.http.HttpClosedException;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * When a request that met a kept-alive connection the server had already closed is sent again,
 * once, on a fresh connection: the server's idle timeout, its keep-alive request limit or a proxy
 * dropping idle connections can close a pooled connection just as a section takes it, and the
 * request then goes into a dead socket. The rules are Go net/http's ({@code shouldRetryRequest}),
 * plus RFC 9110's idempotent PUT and DELETE:
 * <ul>
 *   <li>the connection had carried an earlier request (a fresh one closing is the server's answer);
 *   <li>it closed or was reset before any byte of the response arrived;
 *   <li>the request may be repeated: GET, HEAD, OPTIONS, PUT, DELETE (RFC 9110 section 9.2.2), or
 *       any method with an {@code Idempotency-Key} or {@code X-Idempotency-Key} header. A POST or
 *       PATCH without one is never sent twice: its bytes may have reached the server.
 * </ul>
 */
final class StaleConnectionRetry {

    /** Methods RFC 9110 defines as idempotent, among those the http kind sends. */
    static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE");
    private static final Set<String> IDEMPOTENCY_HEADERS = Set.of("idempotency-key", "x-idempotency-key");

    private final boolean replayable;

    StaleConnectionRetry(String method, Map<String, String> headers) {
        this.replayable = IDEMPOTENT.contains(method) || headers.keySet().stream()
                .anyMatch(name -> IDEMPOTENCY_HEADERS.contains(name.toLowerCase(Locale.ROOT)));
    }

    /** Whether the configured request may be sent twice. */
    boolean replayable() {
        return replayable;
    }

    /**
     * Whether {@code cause}, failing a request before its response began, is the connection going
     * away under it: Vert.x's {@link HttpClosedException} (the server closed it) or an I/O error
     * such as a reset. Netty's {@code PrematureChannelClosureException} (part of a status line or
     * headers had arrived) is neither, and a timeout is the section's own.
     */
    static boolean connectionLost(Throwable cause) {
        return cause instanceof HttpClosedException || cause instanceof IOException;
    }
}
