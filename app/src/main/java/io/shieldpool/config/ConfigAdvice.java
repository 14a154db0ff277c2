package io.shieldpool.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Choices that are valid but look wrong, for check-config to warn about, whatever the work kind
 * (each kind adds its own). The commonest failure operators report is a drain longer than the
 * outer kill window, so most advice is about that.
 */
public final class ConfigAdvice {

    /** systemd's DefaultTimeoutStopSec. */
    static final Duration SYSTEMD_DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(90);

    private ConfigAdvice() {
    }

    public static List<String> warnings(ShieldpoolConfig config) {
        List<String> warnings = new ArrayList<>();
        Duration grace = config.shutdown().grace();
        Duration timeout = config.work().timeout();
        if (!timeout.isZero() && timeout.compareTo(grace) > 0) {
            warnings.add("work.timeout " + Durations.format(timeout) + " is longer than shutdown.grace "
                    + Durations.format(grace) + ": a section that runs to its time limit during a shutdown is cut by the grace cap");
        }
        if (grace.compareTo(SYSTEMD_DEFAULT_STOP_TIMEOUT) >= 0) {
            warnings.add("shutdown.grace " + Durations.format(grace) + " is not below systemd's default "
                    + "TimeoutStopSec (90s): set TimeoutStopSec in the unit above it, or systemd will SIGKILL the drain");
        }
        if (grace.isZero()) {
            warnings.add("shutdown.grace is 0: every shutdown cuts the sections in flight at once (exit 75)");
        }
        if (config.pool().size() == 0) {
            warnings.add("pool.size is 0: the pool idles and runs no section until it is resized");
        }
        return warnings;
    }

    /** The reminder printed under every check: outer kill windows must exceed the grace. */
    public static String killWindowNote(ShieldpoolConfig config) {
        String grace = Durations.format(config.shutdown().grace());
        return "note: every outer kill window must exceed shutdown.grace (" + grace + "): systemd TimeoutStopSec "
                + "(default 90s), Kubernetes terminationGracePeriodSeconds (default 30s, counted from preStop), "
                + "docker stop -t (default 10s)";
    }
}
