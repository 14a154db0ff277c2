package io.shieldpool.kinds;

import io.shieldpool.config.Durations;
import io.shieldpool.config.ShieldpoolConfig;

import java.time.Duration;
import java.util.List;

/**
 * Advice for kinds whose sections report no steps: under systemd's watchdog a section that runs
 * longer than {@code systemd.stall-after} looks stalled, so a time limit below it keeps the two
 * consistent.
 */
public final class StallAdvice {

    private StallAdvice() {
    }

    /** @param longest how long one section may run (zero: nothing bounds it) */
    public static List<String> forSectionsWithoutSteps(ShieldpoolConfig config, Duration longest) {
        Duration stallAfter = config.systemd().stallAfter();
        if (!longest.isZero() && longest.compareTo(stallAfter) <= 0) {
            return List.of();
        }
        return List.of("an " + config.work().type() + " section reports no steps, and "
                + (longest.isZero() ? "nothing bounds it (work.timeout is 0)" : "may run " + Durations.format(longest))
                + ": under systemd's watchdog one running past systemd.stall-after (" + Durations.format(stallAfter)
                + ") counts as stalled; set work.timeout below it, or raise systemd.stall-after");
    }
}
