package io.shieldpool.work.http;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * {@code work.http.max-rate} across the whole pool: requests are spaced at least 1/rate apart, so
 * any window of length W holds at most W x rate + 1 of them. No burst credit builds up while idle:
 * the point is to never overload the target. Lock-free; shared by every shard.
 *
 * <p>Two steps: {@link #reserve()} hands out turns in order (so waiting is fair), and
 * {@link #claim()}, right before sending, checks the spacing against the sends that really
 * happened. why: a turn's timer can fire late (a busy event loop, a cold JIT at start), and late
 * turns would otherwise all go out together.
 */
final class RateLimit {

    private final AtomicLong nextFreeNanos;
    private final AtomicLong lastSentNanos;
    private final LongSupplier clock;
    private volatile long intervalNanos;

    RateLimit(double perSecond, LongSupplier clock) {
        this.clock = clock;
        this.nextFreeNanos = new AtomicLong(clock.getAsLong());
        this.lastSentNanos = new AtomicLong(clock.getAsLong() - (1L << 60));
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

    /**
     * Takes the right to send now, if the last send is at least one interval ago.
     *
     * @return 0 when the request may go now (and counts as sent), else nanoseconds to wait before claiming again
     */
    long claim() {
        long interval = intervalNanos;
        if (interval == 0) {
            return 0;
        }
        while (true) {
            long now = clock.getAsLong();
            long last = lastSentNanos.get();
            long since = now - last;
            if (since < interval) {
                return interval - since;
            }
            if (lastSentNanos.compareAndSet(last, now)) {
                return 0;
            }
        }
    }
}
