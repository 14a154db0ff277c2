package io.shieldpool.control;

import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.kinds.demo.DemoSettings;
import io.shieldpool.kinds.http.HttpSettings;

import com.typesafe.config.ConfigFactory;
import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.EffectiveConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class ReloadPlanTest {

    private static EffectiveConfig load(String... keyValues) throws Exception {
        Properties props = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            props.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return new ConfigLoader(ConfigFactory.empty(), props, WorkKinds.discover()).loadEffective(Optional.empty());
    }

    @Test
    void liveKeysApplyAndRestartOnlyKeysKeepTheirValue() throws Exception {
        EffectiveConfig running = load("shieldpool.pool.event-loops", "2", "shieldpool.log.format", "text");
        EffectiveConfig loaded = load("shieldpool.pool.event-loops", "4", "shieldpool.log.format", "json",
                "shieldpool.pool.size", "9", "shieldpool.shutdown.grace", "5s", "shieldpool.log.level", "debug");
        ReloadPlan plan = ReloadPlan.of(running, loaded);
        assertThat(plan.needRestart()).containsExactly("shieldpool.log.format", "shieldpool.pool.event-loops");
        assertThat(plan.appliedKeys()).containsExactly("shieldpool.log.level", "shieldpool.pool.size",
                "shieldpool.shutdown.grace");
        assertThat(plan.applied().pool().eventLoops()).isEqualTo(2);
        assertThat(plan.applied().pool().size()).isEqualTo(9);
        assertThat(plan.applied().shutdown().grace()).isEqualTo(Duration.ofSeconds(5));
        assertThat(plan.applied().log().format().name()).isEqualTo("TEXT");
        assertThat(plan.workChanged()).isFalse();
        assertThat(plan.backoffChanged()).isFalse();
    }

    /** A restart-only key put back to its running value is not "changed" at the next reload. */
    @Test
    void aRestartOnlyKeyRevertedInTheFileIsNotReportedAgain() throws Exception {
        EffectiveConfig first = load("shieldpool.admin.port", "18712");
        EffectiveConfig edited = load("shieldpool.admin.port", "18713", "shieldpool.pool.size", "4");
        ReloadPlan plan = ReloadPlan.of(first, edited);
        assertThat(plan.needRestart()).containsExactly("shieldpool.admin.port");
        EffectiveConfig running = ReloadPlan.running(plan, first, edited);
        assertThat(running.entries().get("shieldpool.admin.port").value()).isEqualTo("18712");
        assertThat(running.entries().get("shieldpool.pool.size").value()).isEqualTo("4");

        ReloadPlan reverted = ReloadPlan.of(running, load("shieldpool.admin.port", "18712", "shieldpool.pool.size", "4"));
        assertThat(reverted.needRestart()).isEmpty();
        assertThat(reverted.changed()).isEmpty();
        ReloadPlan still = ReloadPlan.of(running, edited);
        assertThat(still.needRestart()).as("still different from the running value").containsExactly("shieldpool.admin.port");
    }

    @Test
    void workAndBackoffChangesAreFlagged() throws Exception {
        ReloadPlan plan = ReloadPlan.of(load(), load("shieldpool.work.demo.steps", "5",
                "shieldpool.worker.backoff.max", "1m"));
        assertThat(plan.workChanged()).isTrue();
        assertThat(plan.backoffChanged()).isTrue();
        assertThat(plan.applied().work().settings(DemoSettings.class).orElseThrow().steps()).isEqualTo(5);
    }

    /**
     * why: the cluster-wide limits are read once, into the store's settings, which a reload keeps;
     * a changed limit was reported applied while every node kept the old one.
     */
    @Test
    void theClusterWideLimitsNeedARestartAndKeepTheirRunningValue() throws Exception {
        EffectiveConfig running = load("shieldpool.jobs.store", "postgresql",
                "shieldpool.jobs.postgresql.url", "postgresql://u@db/shieldpool", "shieldpool.jobs.limits.concurrency", "4");
        EffectiveConfig loaded = load("shieldpool.jobs.store", "postgresql",
                "shieldpool.jobs.postgresql.url", "postgresql://u@db/shieldpool", "shieldpool.jobs.limits.concurrency", "8",
                "shieldpool.jobs.limits.rate", "50", "shieldpool.jobs.limits.burst", "10");
        ReloadPlan plan = ReloadPlan.of(running, loaded);
        assertThat(plan.needRestart()).containsExactly("shieldpool.jobs.limits.burst", "shieldpool.jobs.limits.concurrency",
                "shieldpool.jobs.limits.rate");
        assertThat(plan.appliedKeys()).isEmpty();
        assertThat(plan.applied().jobs().postgresql().limitConcurrency()).isEqualTo(4);
        assertThat(plan.applied().jobs().postgresql().limitRate()).isZero();
    }

    @Test
    void anUnchangedFileChangesNothing() throws Exception {
        ReloadPlan plan = ReloadPlan.of(load(), load());
        assertThat(plan.changed()).isEmpty();
        assertThat(plan.workChanged()).isFalse();
    }

    @Test
    void workParametersApplyButTheWorkTypeAndPluginDirectoryNeedARestart() throws Exception {
        EffectiveConfig running = load("shieldpool.work.type", "http",
                "shieldpool.work.http.url", "http://127.0.0.1:1/a");
        EffectiveConfig loaded = load("shieldpool.work.type", "demo",
                "shieldpool.work.plugin-directory", System.getProperty("java.io.tmpdir"),
                "shieldpool.work.http.url", "http://127.0.0.1:1/b", "shieldpool.work.timeout", "3s");
        ReloadPlan plan = ReloadPlan.of(running, loaded);
        assertThat(plan.needRestart()).containsExactly("shieldpool.work.plugin-directory", "shieldpool.work.type");
        assertThat(plan.workChanged()).isTrue();
        assertThat(plan.applied().work().type()).isEqualTo("http");
        assertThat(plan.applied().work().pluginDirectory()).isEmpty();
        assertThat(plan.applied().work().settings(HttpSettings.class).orElseThrow().url().orElseThrow()).hasToString("http://127.0.0.1:1/b");
        assertThat(plan.applied().work().timeout()).isEqualTo(Duration.ofSeconds(3));
    }
}
