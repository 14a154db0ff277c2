package io.shieldpool.config;

import io.shieldpool.kinds.WorkKinds;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class EffectiveConfigTest {

    @Test
    void everyKeyHasAValueAndAnOrigin() throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", "5");
        EffectiveConfig effective = new ConfigLoader(ConfigFactory.empty(), props, WorkKinds.discover()).loadEffective(Optional.empty());
        assertThat(effective.entries()).containsKeys("shieldpool.pool.size", "shieldpool.shutdown.grace",
                "shieldpool.work.demo.step-duration");
        assertThat(effective.entries().get("shieldpool.pool.size"))
                .isEqualTo(new EffectiveConfig.Entry("5", "system properties"));
        assertThat(effective.entries().get("shieldpool.shutdown.grace").origin()).contains("reference.conf:");
    }

    @Test
    void secretsAreRecognisedByName() {
        assertThat(EffectiveConfig.isSecret("shieldpool.admin.token", java.util.List.of())).isTrue();
        assertThat(EffectiveConfig.isSecret("shieldpool.work.http.password", java.util.List.of())).isTrue();
        assertThat(EffectiveConfig.isSecret("shieldpool.pool.size", java.util.List.of())).isFalse();
    }

    @Test
    void durationsAreWrittenAsConfigured() {
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(Durations.format(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(Durations.format(Duration.ofSeconds(150))).isEqualTo("2m30s");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofHours(2))).isEqualTo("2h");
        assertThat(Durations.format(Duration.ofNanos(1500))).isEqualTo("1500ns");
    }

    @Test
    void adviceWarnsAboutSectionsLongerThanTheGraceAndLongGraces() throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.shutdown.grace", "2s");
        ShieldpoolConfig tight = new ConfigLoader(ConfigFactory.empty(), props, WorkKinds.discover()).load(Optional.empty());
        assertThat(WorkKinds.discover().advice(tight)).singleElement().asString()
                .contains("a demo section takes 3s").contains("shutdown.grace is 2s");
        props.setProperty("shieldpool.shutdown.grace", "2m");
        ShieldpoolConfig longGrace = new ConfigLoader(ConfigFactory.empty(), props, WorkKinds.discover()).load(Optional.empty());
        assertThat(WorkKinds.discover().advice(longGrace)).singleElement().asString().contains("TimeoutStopSec");
        assertThat(WorkKinds.discover().advice(new ConfigLoader(ConfigFactory.empty(), new Properties(), WorkKinds.discover())
                .load(Optional.empty()))).isEmpty();
    }

    @Test
    void adviceWarnsWhenEveryDemoStepWouldLookStalledToTheWatchdog() throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.systemd.stall-after", "500ms");
        ShieldpoolConfig config = new ConfigLoader(ConfigFactory.empty(), props, WorkKinds.discover()).load(Optional.empty());
        assertThat(WorkKinds.discover().advice(config)).singleElement().asString()
                .contains("a demo step takes 1s").contains("systemd.stall-after is 500ms");
    }
}
