package io.shieldpool.systemd;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class WatchdogTest {

    @Test
    void theIntervalComesFromWatchdogUsec() {
        assertThat(Watchdog.requested(Map.of("WATCHDOG_USEC", "30000000"), 42)).hasValue(Duration.ofSeconds(30));
    }

    @Test
    void noWatchdogWhenUnsetZeroOrGarbled() {
        assertThat(Watchdog.requested(Map.of(), 42)).isEmpty();
        assertThat(Watchdog.requested(Map.of("WATCHDOG_USEC", "0"), 42)).isEmpty();
        assertThat(Watchdog.requested(Map.of("WATCHDOG_USEC", "30s"), 42)).isEmpty();
    }

    @Test
    void watchdogPidMustBeOurs() {
        assertThat(Watchdog.requested(Map.of("WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "42"), 42)).isPresent();
        assertThat(Watchdog.requested(Map.of("WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "43"), 42)).isEmpty();
    }
}
