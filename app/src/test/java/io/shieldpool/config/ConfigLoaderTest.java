package io.shieldpool.config;

import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.kinds.demo.DemoSettings;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private final ConfigLoader plain = new ConfigLoader(ConfigFactory.empty(), new Properties(), WorkKinds.discover());

    private Path file(String content) throws Exception {
        Path file = dir.resolve("test.conf");
        Files.writeString(file, content);
        return file;
    }

    private List<String> problems(String content) throws Exception {
        Path file = file(content);
        try {
            plain.load(Optional.of(file));
        } catch (InvalidConfigException e) {
            return e.problems().stream().map(ConfigProblem::toString).toList();
        }
        throw new AssertionError("expected problems for: " + content);
    }

    @Test
    void embeddedDefaults() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.empty());
        assertThat(config.pool().size()).isEqualTo(3);
        assertThat(config.pool().eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(config.work().type()).isEqualTo("demo");
        assertThat(config.work().settings(DemoSettings.class).orElseThrow().steps()).isEqualTo(3);
        assertThat(config.work().settings(DemoSettings.class).orElseThrow().stepDuration()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.shutdown().grace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.backoff().initial()).isEqualTo(Duration.ofMillis(100));
        assertThat(config.log().format()).isEqualTo(ShieldpoolConfig.LogFormat.TEXT);
    }

    @Test
    void fileValuesAreParsedWithUnits() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.of(file("""
                shieldpool.pool.size = 0
                shieldpool.work.demo.step-duration = 250ms
                shieldpool.shutdown.grace = 2m
                shieldpool.log { level = DEBUG, format = json }
                """)));
        assertThat(config.pool().size()).isZero();
        assertThat(config.work().settings(DemoSettings.class).orElseThrow().stepDuration()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.shutdown().grace()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.log().level()).isEqualTo(ShieldpoolConfig.LogLevel.DEBUG);
        assertThat(config.source()).contains(dir.resolve("test.conf"));
    }

    @Test
    void outOfRangeNamesKeyValueExpectationAndLine() throws Exception {
        Path file = dir.resolve("test.conf");
        assertThat(problems("\n\nshieldpool.pool.size = -1\n"))
                .containsExactly("shieldpool.pool.size: -1 (expected: an integer from 0 to 2000000) at " + file + ":3");
    }

    @Test
    void wrongTypes() throws Exception {
        assertThat(problems("""
                shieldpool.pool.size = lots
                shieldpool.work.demo.log-steps = maybe
                shieldpool.work.demo.steps = 0
                """)).containsExactly(
                "shieldpool.pool.size: lots (expected: an integer from 0 to 2000000) at " + dir.resolve("test.conf") + ":1",
                "shieldpool.work.demo.steps: 0 (expected: an integer >= 1) at " + dir.resolve("test.conf") + ":3",
                "shieldpool.work.demo.log-steps: maybe (expected: true or false) at " + dir.resolve("test.conf") + ":2");
    }

    @Test
    void badDurations() throws Exception {
        assertThat(problems("""
                shieldpool.shutdown.grace = 3 parsecs
                shieldpool.worker.backoff.initial = 0s
                """)).containsExactly(
                "shieldpool.worker.backoff.initial: 0s (expected: a duration such as 250ms, 30s or 2m, at least 1ms, at most 365d) at "
                        + dir.resolve("test.conf") + ":2",
                "shieldpool.shutdown.grace: \"3 parsecs\" (expected: a duration such as 250ms, 30s or 2m (0 allowed), at most 365d) at "
                        + dir.resolve("test.conf") + ":1");
    }

    @Test
    void backoffMaxBelowInitial() throws Exception {
        assertThat(problems("shieldpool.worker.backoff { initial = 2s, max = 1s }"))
                .singleElement().asString().startsWith("shieldpool.worker.backoff.max: 1s (expected: a duration >= worker.backoff.initial (2s))");
    }

    @Test
    void unknownKeysWithSuggestion() throws Exception {
        assertThat(problems("""
                shieldpool.pool.sise = 4
                shieldpool.frobnicate = yes
                """)).containsExactly(
                "shieldpool.frobnicate: yes (expected: a known key (see reference.conf)) at " + dir.resolve("test.conf") + ":2",
                "shieldpool.pool.sise: 4 (expected: a known key (did you mean shieldpool.pool.size?)) at "
                        + dir.resolve("test.conf") + ":1");
    }

    @Test
    void aMistypedSecretKeyIsReportedWithoutItsValue() throws Exception {
        String file = dir.resolve("test.conf").toString();
        // a password under a key the daemon does not know, or in a URL under one, must not reach a terminal or a journal
        assertThat(problems("""
                shieldpool.jobs.postgresql.password = "s3cretpw"
                shieldpool.jobs.postgresql.uri = "postgresql://app:s3cretpw@db.example/jobs"
                shieldpool.admin.tokn = "0123456789abcdefXYZ"
                """)).containsExactly(
                "shieldpool.admin.tokn: (hidden) (expected: a known key (did you mean shieldpool.admin.token?)) at " + file + ":3",
                "shieldpool.jobs.postgresql.password: (hidden) (expected: a known key (did you mean"
                        + " shieldpool.jobs.postgresql.password-file?)) at " + file + ":1",
                "shieldpool.jobs.postgresql.uri: postgresql://app:***@db.example/jobs (expected: a known key (did you mean"
                        + " shieldpool.jobs.postgresql.url?)) at " + file + ":2");
    }

    @Test
    void unknownWorkType() throws Exception {
        // A well-formed name may be a plug-in's (checked when plug-ins are loaded); this one cannot be.
        assertThat(problems("shieldpool.work.type = quantum_leap"))
                .containsExactly("shieldpool.work.type: quantum_leap (expected: demo, exec, http, or a plug-in's type "
                        + "(lower-case letters, digits and '-')) at " + dir.resolve("test.conf") + ":1");
    }

    @Test
    void malformedHoconIsOneProblemWithFileAndLine() throws Exception {
        List<String> problems = problems("shieldpool {\n pool.size = 3\n");
        assertThat(problems).singleElement().asString().contains(dir.resolve("test.conf").toString()).contains(": 3:");
    }

    @Test
    void missingFileIsAnError() {
        Path missing = dir.resolve("absent.conf");
        assertThatThrownBy(() -> plain.load(Optional.of(missing)))
                .isInstanceOf(InvalidConfigException.class)
                .satisfies(e -> assertThat(((InvalidConfigException) e).problems()).singleElement().asString()
                        .isEqualTo(missing + ": cannot read the config file: no such file"));
    }

    @Test
    void precedenceReferenceFileEnvironmentSystemProperties() throws Exception {
        Path file = file("shieldpool.pool.size = 5\nshieldpool.shutdown.grace = 5s\nshieldpool.work.demo.steps = 5\n");
        var env = ConfigFactory.parseMap(Map.of("shieldpool.pool.size", "7", "shieldpool.shutdown.grace", "7s"),
                "env variables");
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", "9");
        props.setProperty("java.home", "/ignored");
        ShieldpoolConfig config = new ConfigLoader(env, props, WorkKinds.discover()).load(Optional.of(file));
        assertThat(config.pool().size()).isEqualTo(9);
        assertThat(config.shutdown().grace()).isEqualTo(Duration.ofSeconds(7));
        assertThat(config.work().settings(DemoSettings.class).orElseThrow().steps()).isEqualTo(5);
        assertThat(config.work().settings(DemoSettings.class).orElseThrow().failureProbability()).isZero();
    }

    @Test
    void problemsFromSystemPropertiesNameTheirSource() {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", "-3");
        assertThatThrownBy(() -> new ConfigLoader(ConfigFactory.empty(), props, WorkKinds.discover()).load(Optional.empty()))
                .satisfies(e -> assertThat(((InvalidConfigException) e).problems()).singleElement().asString()
                        .isEqualTo("shieldpool.pool.size: -3 (expected: an integer from 0 to 2000000) at system properties"));
    }

    @Test
    void everyProblemIsReportedAtOnce() throws Exception {
        assertThat(problems("""
                shieldpool.pool.size = -1
                shieldpool.work.demo.steps = -1
                shieldpool.log.level = loud
                shieldpool.shutdown.grace = -1s
                """)).hasSize(4);
    }

    @Test
    void editDistanceForSuggestions() {
        assertThat(Validator.editDistance("pool.sise", "pool.size")).isEqualTo(1);
        assertThat(Validator.editDistance("", "abc")).isEqualTo(3);
        assertThat(Validator.closest("shieldpool.shutdown.grase", java.util.Set.of("shieldpool.shutdown.grace",
                "shieldpool.pool.size"))).contains("shieldpool.shutdown.grace");
        assertThat(Validator.closest("shieldpool.zzzzzzzzzzzz", java.util.Set.of("shieldpool.pool.size"))).isEmpty();
    }
}
