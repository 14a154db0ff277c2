package io.shieldpool.pool;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission to shielded sections, and the gate a shutdown closes. One atomic word holds both the
 * closed flag and the count of sections in flight, so admission and closing cannot race: every
 * {@link #tryAdmit()} either happens before {@link #close()} (and is counted in the in-flight
 * number close returns) or after it (and is refused). Thread-safe; lock-free.
 */
final class StopGate {

    private static final long CLOSED = 1L << 62;
    private static final long COUNT = CLOSED - 1;

    private final AtomicLong word = new AtomicLong();

    /** Admits one section, or returns false once the gate is closed. */
    boolean tryAdmit() {
        while (true) {
            long current = word.get();
            if ((current & CLOSED) != 0) {
                return false;
            }
            if (word.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    /**
     * Ends one admitted section.
     *
     * @return true if the gate is closed and this was the last section in flight: the drain is done
     */
    boolean release() {
        long after = word.decrementAndGet();
        if ((after & COUNT) == COUNT) {
            word.incrementAndGet();
            throw new IllegalStateException("stop gate released more often than admitted");
        }
        return after == CLOSED;
    }

    /**
     * Closes the gate; idempotent.
     *
     * @return the sections in flight at the instant of closing, or -1 if it was already closed
     */
    long close() {
        long before = word.getAndUpdate(w -> w | CLOSED);
        return (before & CLOSED) != 0 ? -1 : before & COUNT;
    }

    boolean isClosed() {
        return (word.get() & CLOSED) != 0;
    }

    long inFlight() {
        return word.get() & COUNT;
    }
}
