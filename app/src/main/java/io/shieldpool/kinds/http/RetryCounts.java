package io.shieldpool.kinds.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.LongAdder;

/** Requests that met a kept-alive connection the server had closed, by what was done; any thread. */
final class RetryCounts {

    /** Sent again on a fresh connection. */
    final LongAdder retried = new LongAdder();
    /** Failed instead: the request may not be repeated (a POST or PATCH without an Idempotency-Key). */
    final LongAdder notRetried = new LongAdder();

    /** {@code shieldpool_http_stale_connections_total{action="retried"|"failed"}}. */
    void bindTo(MeterRegistry registry) {
        counter(registry, "retried", retried);
        counter(registry, "failed", notRetried);
    }

    private static void counter(MeterRegistry registry, String action, LongAdder count) {
        FunctionCounter.builder("shieldpool.http.stale.connections", count, LongAdder::sum)
                .description("Requests that met a kept-alive connection the server had closed before answering: "
                        + "retried once on a fresh connection, or failed (not idempotent)")
                .tag("action", action).register(registry);
    }
}
