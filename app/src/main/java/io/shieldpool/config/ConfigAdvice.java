package io.shieldpool.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Choices that are valid but look wrong, for check-config to warn about. The commonest failure
 * operators report is a drain longer than the outer kill window, so most advice is about that.
 */
public final class ConfigAdvice {

    /** systemd's DefaultTimeoutStopSec. */
    static final Duration SYSTEMD_DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(90);

    private ConfigAdvice() {
    }

    public static List<String> warnings(ShieldpoolConfig config) {
        List<String> warnings = new ArrayList<>();
        Duration grace = config.shutdown().grace();
        if ("demo".equals(config.work().type())) {
            Duration section = config.work().demo().expectedSection();
            if (section.compareTo(grace) > 0) {
                warnings.add("a demo section takes " + Durations.format(section) + " (work.demo.steps "
                        + config.work().demo().steps() + " x work.demo.step-duration "
                        + Durations.format(config.work().demo().stepDuration()) + ") but shutdown.grace is "
                        + Durations.format(grace) + ": a shutdown would cut sections in flight");
            }
        }
        Duration timeout = config.work().timeout();
        if (!timeout.isZero() && timeout.compareTo(grace) > 0) {
            warnings.add("work.timeout " + Durations.format(timeout) + " is longer than shutdown.grace "
                    + Durations.format(grace) + ": a section that runs to its time limit during a shutdown is cut by the grace cap");
        }
        if (config.work().type().equals("http") && timeout.isZero()
                && config.work().http().timeout().compareTo(grace) > 0) {
            warnings.add("work.http.timeout " + Durations.format(config.work().http().timeout())
                    + " is longer than shutdown.grace " + Durations.format(grace)
                    + ": a slow request during a shutdown is cut by the grace cap");
        }
        warnings.addAll(rateLimitWaits(config));
        Duration stallAfter = config.systemd().stallAfter();
        // why: exec and http sections report no steps, so under systemd's watchdog a section longer
        // than stall-after looks stalled; a time limit below it keeps the two consistent.
        Duration longest = switch (config.work().type()) {
            case "exec" -> timeout;
            // why: http.timeout bounds getting a connection and, on a fresh clock, the exchange from
            // sending; without work.timeout the wait in line comes before both.
            case "http" -> timeout.isZero()
                    ? config.work().http().timeout().multipliedBy(2).plus(fullLine(config)) : timeout;
            default -> Duration.ofMillis(1);
        };
        if (longest.isZero() || longest.compareTo(stallAfter) > 0) {
            warnings.add("an " + config.work().type() + " section reports no steps, and "
                    + (longest.isZero() ? "nothing bounds it (work.timeout is 0)" : "may run " + Durations.format(longest))
                    + ": under systemd's watchdog one running past systemd.stall-after (" + Durations.format(stallAfter)
                    + ") counts as stalled; set work.timeout below it, or raise systemd.stall-after");
        }
        if ("demo".equals(config.work().type()) && config.work().demo().stepDuration().compareTo(stallAfter) >= 0) {
            warnings.add("a demo step takes " + Durations.format(config.work().demo().stepDuration())
                    + " but systemd.stall-after is " + Durations.format(stallAfter) + ": under systemd's watchdog "
                    + "every step would look stalled and the daemon would be restarted");
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

    /**
     * why: under max-rate every worker waits in one line, so the last of a full line waits about
     * pool.size / max-rate for its turn. work.timeout counts that wait (http.timeout does not: it
     * starts at sending), and so does a drain, which lets every waiting section send.
     */
    private static List<String> rateLimitWaits(ShieldpoolConfig config) {
        double maxRate = config.work().http().maxRate();
        int size = config.pool().size();
        if (!"http".equals(config.work().type()) || maxRate <= 0 || size == 0) {
            return List.of();
        }
        Duration line = fullLine(config);
        String wait = "pool.size " + size + " / work.http.max-rate "
                + java.math.BigDecimal.valueOf(maxRate).stripTrailingZeros().toPlainString() + " = "
                + Durations.format(line) + " for a full line of sections to send";
        List<String> warnings = new ArrayList<>();
        Duration timeout = config.work().timeout();
        if (!timeout.isZero() && line.compareTo(timeout) > 0) {
            warnings.add(wait + ", longer than work.timeout " + Durations.format(timeout)
                    + ": sections at the back of the line time out before sending; lower pool.size or raise "
                    + "work.http.max-rate or work.timeout");
        }
        Duration grace = config.shutdown().grace();
        if (line.compareTo(grace) > 0) {
            warnings.add(wait + ", longer than shutdown.grace " + Durations.format(grace)
                    + ": a drain lets every waiting section send, so the grace cap would cut the last ones; "
                    + "lower pool.size or raise work.http.max-rate or shutdown.grace");
        }
        return warnings;
    }

    /** About how long a full line of pool.size sections takes to send under max-rate (0 without one). */
    private static Duration fullLine(ShieldpoolConfig config) {
        double maxRate = config.work().http().maxRate();
        return maxRate <= 0 ? Duration.ZERO : Duration.ofMillis(Math.round(config.pool().size() * 1000 / maxRate));
    }

    /** The reminder printed under every check: outer kill windows must exceed the grace. */
    public static String killWindowNote(ShieldpoolConfig config) {
        String grace = Durations.format(config.shutdown().grace());
        return "note: every outer kill window must exceed shutdown.grace (" + grace + "): systemd TimeoutStopSec "
                + "(default 90s), Kubernetes terminationGracePeriodSeconds (default 30s, counted from preStop), "
                + "docker stop -t (default 10s)";
    }
}
