package io.shieldpool.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class SettlingTest {

    private static final long MS = 1_000_000;

    @Test
    void aReadingCountsOnceItHasStayedTheSameForTheSettleTime() {
        Settling<String> seen = new Settling<>(Duration.ofMillis(100));
        assertThat(seen.settled("bash bin/shieldpool", 0)).isFalse();
        // torn reads while it execs: each starts the clock again
        assertThat(seen.settled("eash bin/shieldpool", 20 * MS)).isFalse();
        assertThat(seen.settled("busr/lib/jvm/temurin-25-jdk-amd64/bin/java", 40 * MS)).isFalse();
        assertThat(seen.settled("java -jar shieldpool.jar", 60 * MS)).isFalse();
        assertThat(seen.settled("java -jar shieldpool.jar", 159 * MS)).isFalse();
        assertThat(seen.settled("java -jar shieldpool.jar", 160 * MS)).isTrue();
        assertThat(seen.settled("/", 180 * MS)).as("a change unsettles it").isFalse();
    }
}
