package io.shieldpool.systemd;

import io.shieldpool.view.PoolStatus;

/**
 * The one short line {@code systemctl status} shows (sd_notify {@code STATUS=}): what the pool is
 * doing now, in words an operator reads at a glance.
 */
final class StatusLine {

    private StatusLine() {
    }

    /** "4/4 workers, 3 busy, 12034 sections done", or the drain's progress while draining. */
    static String of(PoolStatus status) {
        var totals = status.totals();
        if (status.drain().isPresent()) {
            var drain = status.drain().get();
            return "draining: " + plural(drain.sectionsLeft(), "section") + " left, "
                    + seconds(drain.graceLeftMs()) + " of grace left";
        }
        return switch (status.state()) {
            case STARTING -> "starting";
            case STOPPED -> "stopped";
            default -> totals.workers() + "/" + status.desiredSize() + " workers, " + totals.busy() + " busy, "
                    + plural(totals.completed() + totals.failed(), "section") + " done"
                    + (totals.failed() > 0 ? " (" + totals.failed() + " failed)" : "");
        };
    }

    /** A reload that was rejected stays visible in front of the pool's line until one succeeds. */
    static String afterFailedReload(String poolLine) {
        return "reload failed: see journal; " + poolLine;
    }

    private static String plural(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /** Whole seconds, rounded up, so "0s left" means the grace is really spent. */
    private static String seconds(long millis) {
        return (millis + 999) / 1000 + "s";
    }
}
