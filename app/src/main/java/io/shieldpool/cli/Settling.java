package io.shieldpool.cli;

import java.time.Duration;
import java.util.Objects;

/**
 * A reading that counts only once it has stayed the same, read after read, for a while. why: while
 * a pid execs (the launcher: env, then bash, then java) its /proc/PID/cmdline reads torn for a
 * moment ("eash ...", "/", "busr/lib/jvm/..." and empty were seen here), and one such read must not
 * turn a daemon that is starting away as "not a shieldpool daemon".
 */
final class Settling<T> {

    private final long settleNanos;
    private T last;
    private long since;
    private boolean any;

    Settling(Duration settle) {
        this.settleNanos = settle.toNanos();
    }

    /** Whether {@code value}, read at {@code nanoTime}, has been the one read since at least the settle time. */
    boolean settled(T value, long nanoTime) {
        if (!any || !Objects.equals(value, last)) {
            any = true;
            last = value;
            since = nanoTime;
        }
        return nanoTime - since >= settleNanos;
    }
}
