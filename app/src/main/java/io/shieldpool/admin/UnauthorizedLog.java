package io.shieldpool.admin;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Logs refused admin requests at WARN, at most once per {@link #INTERVAL}: someone guessing
 * tokens, or a scraper with a stale one, must not flood the log. Each line says how many refusals
 * it stands for. Used only on the admin server's event loop, so it needs no lock.
 */
final class UnauthorizedLog {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    static final Duration INTERVAL = Duration.ofSeconds(10);

    private final LongSupplier nanoClock;
    private boolean loggedBefore;
    private long lastLoggedNanos;
    private long suppressed;

    UnauthorizedLog(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** @return true if this refusal was logged, false if it was only counted */
    boolean refused(String method, String path, String remote, String reason) {
        long now = nanoClock.getAsLong();
        if (loggedBefore && now - lastLoggedNanos < INTERVAL.toNanos()) {
            suppressed++;
            return false;
        }
        log.atWarn().addKeyValue("event", "admin.unauthorized").addKeyValue("path", path)
                .addKeyValue("remote", remote).addKeyValue("reason", reason).addKeyValue("suppressed", suppressed)
                .log("admin: refused {} {} from {} ({}): 401; {} more refused since the last such line; "
                        + "at most one line per {} s", method, path, remote, reason, suppressed, INTERVAL.toSeconds());
        loggedBefore = true;
        lastLoggedNanos = now;
        suppressed = 0;
        return true;
    }
}
