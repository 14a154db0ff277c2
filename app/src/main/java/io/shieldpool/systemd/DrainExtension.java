package io.shieldpool.systemd;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * When a drain asks systemd for more stop time ({@code EXTEND_TIMEOUT_USEC=}), and how much. A
 * drain that makes progress is extended a little at a time, so systemd's stop timeout never kills a
 * section that will end within {@code shutdown.grace}; a drain that is stalled, or whose grace is
 * spent, is not, and systemd's own {@code TimeoutStopSec} applies again. Pure: the caller supplies
 * the readings, so it is tested without a clock.
 */
final class DrainExtension {

    /** How often the drain is looked at; the extension must outlast a few late looks. */
    static final Duration EVERY = Duration.ofSeconds(2);
    /** The longest one extension reaches past now: five looks, so a busy machine does not lose it. */
    static final Duration STEP = EVERY.multipliedBy(5);
    /** Beyond the grace: time for the daemon to report the cut, close Vert.x and exit. */
    static final Duration MARGIN = Duration.ofSeconds(5);

    private DrainExtension() {
    }

    /**
     * @param graceLeftMs         time before the grace cap cuts the drain (0 once spent)
     * @param sectionsLeft        sections still in flight
     * @param slowestSinceProgressMs the longest any busy worker has gone without progress (0: none busy)
     * @param stallAfter          the bound past which a worker counts as stalled
     * @return the extension to send, in microseconds, or empty to send none
     */
    static OptionalLong extensionMicros(long graceLeftMs, long sectionsLeft, long slowestSinceProgressMs,
                                        Duration stallAfter) {
        if (graceLeftMs <= 0 || sectionsLeft <= 0 || slowestSinceProgressMs >= stallAfter.toMillis()) {
            return OptionalLong.empty();
        }
        long millis = Math.min(STEP.toMillis(), graceLeftMs + MARGIN.toMillis());
        return OptionalLong.of(millis * 1000);
    }
}
