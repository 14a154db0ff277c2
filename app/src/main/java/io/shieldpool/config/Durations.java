package io.shieldpool.config;

import java.time.Duration;

/** Durations written the way they are configured ("250ms", "30s", "2m30s"), not ISO-8601. */
public final class Durations {

    private static final Duration NANOS_FIT = Duration.ofNanos(Long.MAX_VALUE);

    private Durations() {
    }

    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        // why: toNanos/toMillis overflow a long past ~292 years / ~292 million years; such a value
        // (refused by every rule, but still worth printing in a message) is shown without its fraction.
        boolean nanosFit = d.compareTo(NANOS_FIT) < 0;
        if (nanosFit && (d.toNanosPart() % 1_000_000 != 0 || d.compareTo(Duration.ofMillis(1)) < 0)) {
            return d.toNanos() % 1000 == 0 ? d.toNanos() / 1000 + "us" : d.toNanos() + "ns";
        }
        if (nanosFit && (d.compareTo(Duration.ofSeconds(1)) < 0 || d.toMillisPart() != 0)) {
            return d.toMillis() + "ms";
        }
        StringBuilder out = new StringBuilder();
        if (d.toHours() > 0) {
            out.append(d.toHours()).append('h');
        }
        if (d.toMinutesPart() > 0) {
            out.append(d.toMinutesPart()).append('m');
        }
        if (d.toSecondsPart() > 0) {
            out.append(d.toSecondsPart()).append('s');
        }
        return out.toString();
    }
}
