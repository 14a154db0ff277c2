package io.shieldpool.systemd;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class DrainExtensionTest {

    private static final Duration STALL_AFTER = Duration.ofSeconds(60);

    @Test
    void aProgressingDrainIsExtendedAStepAtATime() {
        assertThat(DrainExtension.extensionMicros(25_000, 3, 1_000, STALL_AFTER))
                .hasValue(DrainExtension.STEP.toNanos() / 1000);
    }

    @Test
    void theExtensionNeverReachesFartherThanTheGraceAndItsMargin() {
        assertThat(DrainExtension.extensionMicros(1_000, 3, 1_000, STALL_AFTER))
                .hasValue(1_000_000L + DrainExtension.MARGIN.toNanos() / 1000);
    }

    @Test
    void noExtensionOnceTheGraceIsSpent() {
        assertThat(DrainExtension.extensionMicros(0, 3, 1_000, STALL_AFTER)).isEmpty();
    }

    @Test
    void noExtensionForAStalledWorker() {
        assertThat(DrainExtension.extensionMicros(25_000, 3, 60_000, STALL_AFTER)).isEmpty();
        assertThat(DrainExtension.extensionMicros(25_000, 3, 59_999, STALL_AFTER)).isPresent();
    }

    @Test
    void noExtensionOnceNothingIsLeft() {
        assertThat(DrainExtension.extensionMicros(25_000, 0, 0, STALL_AFTER)).isEmpty();
    }
}
