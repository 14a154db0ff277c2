package io.shieldpool.systemd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * systemd's watchdog ({@code WatchdogSec=}) fed only while it means something: {@code WATCHDOG=1}
 * every half interval, and only after {@link PoolHealth} found the pool alive. A wedged supervisor,
 * a shard that does not answer or a busy worker stalled past {@code systemd.stall-after} stops the
 * pings, so systemd restarts the daemon; the reason is logged once when the pings stop, and again
 * if they resume.
 *
 * <p>It runs on its own platform thread, not on Vert.x: an event loop that is stuck cannot be
 * trusted to report that it is stuck.
 */
final class Watchdog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);

    /** Shortest wait for an answer: below this, a loaded machine looks wedged. */
    private static final Duration MIN_ANSWER = Duration.ofMillis(500);
    /** Longest wait for an answer; more only delays the verdict. */
    private static final Duration MAX_ANSWER = Duration.ofSeconds(5);

    private final NotifySocket socket;
    private final PoolHealth health;
    private final Duration interval;
    private final ScheduledExecutorService thread;
    private String stoppedBecause;

    Watchdog(NotifySocket socket, PoolHealth health, Duration interval) {
        this.socket = socket;
        this.health = health;
        this.interval = interval;
        this.thread = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("shieldpool-watchdog").factory());
    }

    /**
     * The watchdog interval systemd asked for: {@code WATCHDOG_USEC}, when set, positive, and meant
     * for this process ({@code WATCHDOG_PID} unset or ours).
     */
    static Optional<Duration> requested(Map<String, String> env, long ownPid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null || usec.isBlank()) {
            return Optional.empty();
        }
        String pid = env.get("WATCHDOG_PID");
        if (pid != null && !pid.isBlank() && !pid.trim().equals(Long.toString(ownPid))) {
            log.debug("WATCHDOG_PID={} is not this process ({}): the watchdog is someone else's", pid, ownPid);
            return Optional.empty();
        }
        try {
            long micros = Long.parseLong(usec.trim());
            return micros > 0 ? Optional.of(Duration.ofNanos(micros * 1000)) : Optional.empty();
        } catch (NumberFormatException e) {
            log.warn("WATCHDOG_USEC={} is not a number of microseconds: no watchdog pings", usec);
            return Optional.empty();
        }
    }

    void start() {
        long periodMicros = Math.max(1, interval.toNanos() / 2000);
        // why two fields: systemd's timeout (WatchdogSec) and the ping period (half of it) are both
        // worth knowing, and each number in the message is a field of the same name.
        log.atInfo().addKeyValue("event", "watchdog.started").addKeyValue("timeout_ms", interval.toMillis())
                .addKeyValue("ping_every_ms", periodMicros / 1000)
                .log("systemd watchdog on (timeout {} ms): WATCHDOG=1 every {} ms while the pool is healthy",
                        interval.toMillis(), periodMicros / 1000);
        thread.scheduleAtFixedRate(this::tick, 0, periodMicros, TimeUnit.MICROSECONDS);
    }

    private void tick() {
        Duration answerWithin = interval.dividedBy(4);
        answerWithin = answerWithin.compareTo(MIN_ANSWER) < 0 ? MIN_ANSWER
                : answerWithin.compareTo(MAX_ANSWER) > 0 ? MAX_ANSWER : answerWithin;
        Optional<PoolHealth.Problem> problem;
        try {
            problem = health.problem(answerWithin);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (RuntimeException e) {
            problem = Optional.of(new PoolHealth.Problem("check", "the health check failed: " + e));
        }
        if (problem.isEmpty()) {
            if (stoppedBecause != null) {
                log.atWarn().addKeyValue("event", "watchdog.resumed")
                        .log("systemd watchdog pings resumed: the pool is healthy again");
                stoppedBecause = null;
            }
            socket.send("WATCHDOG=1");
        } else if (!problem.get().key().equals(stoppedBecause)) {
            stoppedBecause = problem.get().key();
            String reason = problem.get().message();
            log.atError().addKeyValue("event", "watchdog.stopped").addKeyValue("reason", reason)
                    .log("systemd watchdog pings stopped: {}; systemd restarts the daemon {} ms after the last ping "
                            + "unless it recovers", reason, interval.toMillis());
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
