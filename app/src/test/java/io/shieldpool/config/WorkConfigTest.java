package io.shieldpool.config;

import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.kinds.exec.ExecSettings;
import io.shieldpool.kinds.http.HttpSettings;
import io.shieldpool.kinds.plugin.PluginSettings;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The exec, http and plug-in keys: parsed into values, or one clear line per mistake. */
class WorkConfigTest {

    @TempDir
    Path dir;

    private final ConfigLoader plain = new ConfigLoader(ConfigFactory.empty(), new Properties(), WorkKinds.discover());

    private Path file(String content) throws Exception {
        Path file = dir.resolve("work.conf");
        Files.writeString(file, content);
        return file;
    }

    private List<String> problems(String content) throws Exception {
        try {
            plain.load(Optional.of(file(content)));
        } catch (InvalidConfigException e) {
            return e.problems().stream().map(ConfigProblem::toString).toList();
        }
        throw new AssertionError("expected problems for: " + content);
    }

    @Test
    void execKeysAreParsed() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.of(file("""
                shieldpool.work {
                  type = exec
                  timeout = 2m
                  exec {
                    command = ["/bin/sh", "-c", "echo hi"]
                    environment { BATCH_SIZE = 100, TARGET = "eu-1" }
                    directory = "%s"
                    kill-after = 2s
                  }
                }
                """.formatted(dir))));
        ShieldpoolConfig.Work work = config.work();
        assertThat(work.type()).isEqualTo("exec");
        assertThat(work.timeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(work.settings(ExecSettings.class).orElseThrow().command()).containsExactly("/bin/sh", "-c", "echo hi");
        assertThat(work.settings(ExecSettings.class).orElseThrow().environment()).isEqualTo(Map.of("BATCH_SIZE", "100", "TARGET", "eu-1"));
        assertThat(work.settings(ExecSettings.class).orElseThrow().directory()).contains(dir);
        assertThat(work.settings(ExecSettings.class).orElseThrow().killAfter()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void execMistakesNameKeyValueExpectationAndLine() throws Exception {
        Path file = dir.resolve("work.conf");
        List<String> missing = problems("""
                shieldpool.work.type = exec
                shieldpool.work.exec.kill-after = soon
                """);
        assertThat(missing).hasSize(2);
        assertThat(missing.getFirst()).startsWith("shieldpool.work.exec.command: [] (expected: a non-empty list: the "
                + "program and its arguments, such as [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]) at ")
                .endsWith("reference.conf:" + referenceLine("command = []"));
        assertThat(missing.get(1)).isEqualTo("shieldpool.work.exec.kill-after: soon (expected: a duration such as 250ms, "
                + "30s or 2m (0 allowed), at most 365d) at " + file + ":2");
        assertThat(problems("""
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["/no/such/program"]
                shieldpool.work.exec.environment { "1BAD" = x, GOOD = [1, 2] }
                shieldpool.work.exec.directory = /no/such/dir
                """)).containsExactlyInAnyOrder(
                "shieldpool.work.exec.command: [\"/no/such/program\"] (expected: a list whose first element is an "
                        + "executable file (a path, or a name on PATH); /no/such/program is not) at " + file + ":2",
                "shieldpool.work.exec.environment.1BAD: x (expected: environment variable names (letters, digits, '_', "
                        + "not starting with a digit)) at " + file + ":3",
                "shieldpool.work.exec.environment.GOOD: [1,2] (expected: a string) at " + file + ":3",
                "shieldpool.work.exec.directory: /no/such/dir (expected: an existing directory, or \"\" for none) at "
                        + file + ":4");
    }

    @Test
    void aNestedListCommandIsOneProblemNotTwo() throws Exception {
        Path file = dir.resolve("work.conf");
        assertThat(problems("""
                shieldpool.work.type = exec
                shieldpool.work.exec.command = [["/bin/echo"], "x"]
                """)).containsExactly(
                "shieldpool.work.exec.command: [[\"/bin/echo\"],\"x\"] (expected: a list of strings, such as "
                        + "[\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]) at " + file + ":2");
    }

    @Test
    void aRelativeCommandIsLookedUpInWorkExecDirectoryWherePosixSpawnpRunsIt() throws Exception {
        Path workDir = Files.createDirectories(dir.resolve("jobs"));
        Path script = Files.createDirectories(workDir.resolve("bin")).resolve("sync.sh");
        Files.writeString(script, "#!/bin/sh\nexit 0\n");
        script.toFile().setExecutable(true);
        // Only under work.exec.directory: the daemon's own directory (the test's) has no bin/sync.sh.
        assertThat(Path.of("bin/sync.sh")).doesNotExist();
        ShieldpoolConfig config = plain.load(Optional.of(file("""
                shieldpool.work.type = exec
                shieldpool.work.exec { command = ["bin/sync.sh"], directory = "%s" }
                """.formatted(workDir))));
        assertThat(config.work().settings(ExecSettings.class).orElseThrow().command()).containsExactly("bin/sync.sh");

        Path file = dir.resolve("work.conf");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        assertThat(problems("""
                shieldpool.work.type = exec
                shieldpool.work.exec { command = ["bin/sync.sh"], directory = "%s" }
                """.formatted(elsewhere))).containsExactly(
                "shieldpool.work.exec.command: [\"bin/sync.sh\"] (expected: a list whose first element is an "
                        + "executable file (a path, or a name on PATH; a relative path is taken from "
                        + "work.exec.directory " + elsewhere + "); bin/sync.sh is not) at " + file + ":2");
    }

    /** The line of reference.conf holding {@code text}, 1-based. */
    private static int referenceLine(String text) throws Exception {
        try (var in = WorkConfigTest.class.getResourceAsStream("/reference.conf")) {
            List<String> lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains(text)) {
                    return i + 1;
                }
            }
        }
        throw new AssertionError(text + " not in reference.conf");
    }

    @Test
    void httpKeysAreParsed() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.of(file("""
                shieldpool.work {
                  type = http
                  http {
                    method = post
                    url = "https://api.example.com/v1/sync"
                    headers { Authorization = "Bearer abc", Content-Type = "application/json" }
                    body = "{\\"batch\\": 100}"
                    timeout = 5s
                    success-statuses = ["2xx", 304]
                    max-rate = 2.5
                  }
                }
                """)));
        HttpSettings http = config.work().settings(HttpSettings.class).orElseThrow();
        assertThat(http.method()).isEqualTo("POST");
        assertThat(http.url()).contains(URI.create("https://api.example.com/v1/sync"));
        assertThat(http.headers()).containsEntry("Authorization", "Bearer abc").containsEntry("Content-Type", "application/json");
        assertThat(http.body()).isEqualTo("{\"batch\": 100}");
        assertThat(http.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(http.successStatuses().contains(204)).isTrue();
        assertThat(http.successStatuses().contains(304)).isTrue();
        assertThat(http.successStatuses().contains(302)).isFalse();
        assertThat(http.maxRate()).isEqualTo(2.5);
        assertThat(http.toString()).as("no header value in toString").doesNotContain("Bearer");
    }

    @Test
    void checkConfigWarnsWhenTheLineUnderMaxRateOutlastsTheTimeoutOrTheGrace() throws Exception {
        String http = """
                shieldpool.pool.size = 8
                shieldpool.work.type = http
                shieldpool.work.timeout = 30s
                shieldpool.work.http.url = "http://127.0.0.1:8080/"
                shieldpool.systemd.stall-after = 5m
                """;
        List<String> slow = WorkKinds.discover().advice(plain.load(Optional.of(file(http + "shieldpool.work.http.max-rate = 0.1\n"))));
        assertThat(slow).containsExactly(
                "pool.size 8 / work.http.max-rate 0.1 = 1m20s for a full line of sections to send, longer than "
                        + "work.timeout 30s: sections at the back of the line time out before sending; lower pool.size "
                        + "or raise work.http.max-rate or work.timeout",
                "pool.size 8 / work.http.max-rate 0.1 = 1m20s for a full line of sections to send, longer than "
                        + "shutdown.grace 30s: a drain lets every waiting section send, so the grace cap would cut the "
                        + "last ones; lower pool.size or raise work.http.max-rate or shutdown.grace");
        assertThat(WorkKinds.discover().advice(plain.load(Optional.of(file(http + "shieldpool.work.http.max-rate = 2\n")))))
                .as("a line of 4s fits both").isEmpty();
        assertThat(WorkKinds.discover().advice(plain.load(Optional.of(file(http + "shieldpool.work.http.max-rate = 0\n")))))
                .as("no limit, no line").isEmpty();
    }

    @Test
    void httpMistakesNameKeyValueExpectationAndLine() throws Exception {
        Path file = dir.resolve("work.conf");
        assertThat(problems("""
                shieldpool.work.type = http
                shieldpool.work.http.method = FETCH
                shieldpool.work.http.url = "ftp://example.com/x"
                shieldpool.work.http.timeout = 0
                shieldpool.work.http.success-statuses = ["2xx", "ok"]
                shieldpool.work.http.max-rate = -1
                """)).containsExactlyInAnyOrder(
                "shieldpool.work.http.method: FETCH (expected: one of delete, get, head, options, patch, post, put) at "
                        + file + ":2",
                "shieldpool.work.http.url: ftp://example.com/x (expected: an absolute http:// or https:// URL with a "
                        + "host, such as https://api.example.com/v1/sync) at " + file + ":3",
                "shieldpool.work.http.timeout: 0 (expected: a duration such as 250ms, 30s or 2m, at least 1ms, at most 365d) at "
                        + file + ":4",
                "shieldpool.work.http.success-statuses: [\"2xx\",\"ok\"] (expected: a non-empty list of statuses 100-599 "
                        + "or classes such as \"2xx\") at " + file + ":5",
                "shieldpool.work.http.max-rate: -1 (expected: a number of requests per second >= 0 (0: no limit)) at "
                        + file + ":6");
        assertThat(problems("shieldpool.work.type = http\n")).singleElement().asString()
                .startsWith("shieldpool.work.http.url: \"\" (expected: an absolute http:// or https:// URL");
    }

    @Test
    void aPluginTypeOwnsItsSubtreeAndOtherUnknownKeysAreStillRejected() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.of(file("""
                shieldpool.work.type = acme-sync
                shieldpool.work.acme-sync { endpoint = "https://x", batch = 10 }
                """)));
        assertThat(config.work().type()).isEqualTo("acme-sync");
        assertThat(((PluginSettings) config.work().settings()).config().getInt("batch")).isEqualTo(10);
        Path file = dir.resolve("work.conf");
        assertThat(problems("""
                shieldpool.work.type = acme-sync
                shieldpool.work.other-plugin.batch = 10
                """)).containsExactly("shieldpool.work.other-plugin.batch: 10 (expected: a known key (see reference.conf)) at "
                + file + ":2");
        assertThat(problems("shieldpool.work.type = \"Not A Type\"\n")).containsExactly(
                "shieldpool.work.type: \"Not A Type\" (expected: demo, exec, http, or a plug-in's type (lower-case "
                        + "letters, digits and '-')) at " + file + ":1");
    }

    @Test
    void credentialsInHeadersAndEnvironmentAreMasked() throws Exception {
        EffectiveConfig effective = plain.loadEffective(Optional.of(file("""
                shieldpool.work.http.headers { Authorization = "Bearer abc", Accept = "text/plain" }
                shieldpool.work.exec.environment { API_KEY = "k", REGION = "eu" }
                """)));
        assertThat(effective.values())
                .containsEntry("shieldpool.work.http.headers.Authorization", EffectiveConfig.MASK)
                .containsEntry("shieldpool.work.http.headers.Accept", "text/plain")
                .containsEntry("shieldpool.work.exec.environment.API_KEY", EffectiveConfig.MASK)
                .containsEntry("shieldpool.work.exec.environment.REGION", "eu");
    }

    @Test
    void credentialsInTheHttpUrlAreMaskedInTheConfigInErrorsAndInTheSettingsShownInLogs() throws Exception {
        String url = "https://sync:pw-in-url@api.example.com/v1?api_key=k-in-url&page=2&access_token=t-in-url";
        String shown = "https://sync:***@api.example.com/v1?api_key=***&page=2&access_token=***";
        EffectiveConfig effective = plain.loadEffective(Optional.of(file(
                "shieldpool.work.type = http\nshieldpool.work.http.url = \"" + url + "\"\n")));
        assertThat(effective.values()).containsEntry("shieldpool.work.http.url", shown);
        HttpSettings http = (HttpSettings) effective.config().work().settings();
        assertThat(http.shownUrl()).isEqualTo(shown);
        assertThat(http.toString()).contains(shown).doesNotContain("-in-url");
        assertThat(problems("shieldpool.work.type = http\nshieldpool.work.http.url = \"https://u:pw-in-url@exa mple/\"\n"))
                .singleElement().asString().startsWith("shieldpool.work.http.url: https://u:***@exa mple/ (expected:")
                .doesNotContain("pw-in-url");
    }

    @Test
    void anHttpUrlWithAPortOutOfRangeIsAConfigError() throws Exception {
        // the client refused it at each request instead, with "port p must be in range 0 <= p <= 65535"
        assertThat(problems("shieldpool.work.type = http\nshieldpool.work.http.url = \"http://127.0.0.1:99999/\"\n"))
                .containsExactly("shieldpool.work.http.url: http://127.0.0.1:99999/ (expected: a URL whose port is from 1 "
                        + "to 65535) at " + dir.resolve("work.conf") + ":2");
    }
}
