package io.shieldpool.work.http;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * {@code work.http.max-rate} across the whole pool: requests are spaced at least 1/rate apart, so
 * any window of length W holds at most W x rate + 1 of them. No burst credit builds up while idle:
 * the point is to never overload the target. Lock-free; shared by every shard.
 */
final class RateLimit {

    private final AtomicLong nextFreeNanos;
    private final LongSupplier clock;
    private volatile long intervalNanos;

    RateLimit(double perSecond, LongSupplier clock) {
        this.clock = clock;
        this.nextFreeNanos = new AtomicLong(clock.getAsLong());
        setRate(perSecond);
    }

    /** A reload's new rate applies to the requests reserved from now on; 0 lifts the limit. */
    void setRate(double perSecond) {
        intervalNanos = perSecond <= 0 ? 0 : (long) Math.ceil(1e9 / perSecond);
    }

    /**
     * Takes the next free slot.
     *
     * @return nanoseconds to wait before sending (0: send now)
     */
    long reserve() {
        long interval = intervalNanos;
        if (interval == 0) {
            return 0;
        }
        while (true) {
            long now = clock.getAsLong();
            long next = nextFreeNanos.get();
            long slot = next - now > 0 ? next : now;
            if (nextFreeNanos.compareAndSet(next, slot + interval)) {
                return slot - now;
            }
        }
    }
}
