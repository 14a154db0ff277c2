package io.shieldpool.config;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** shieldpool.jobs.*: defaults, validation in the project's message format, and what a reload may change. */
class JobsConfigTest {

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(ConfigFactory.empty(), new Properties(), io.shieldpool.kinds.WorkKinds.discover());

    private ShieldpoolConfig load(String content) throws Exception {
        Path file = dir.resolve("jobs.conf");
        Files.writeString(file, content);
        return loader.load(Optional.of(file));
    }

    private List<String> problems(String content) throws Exception {
        try {
            load(content);
        } catch (InvalidConfigException e) {
            return e.problems().stream().map(ConfigProblem::toString).toList();
        }
        throw new AssertionError("expected problems for: " + content);
    }

    @Test
    void withoutAJobsBlockThereIsNoStoreAndTheDefaultsAreDocumented() throws Exception {
        ShieldpoolConfig.Jobs jobs = load("").jobs();
        assertThat(jobs.enabled()).isFalse();
        assertThat(jobs.queue()).isEqualTo("default");
        assertThat(jobs.maxAttempts()).isEqualTo(25);
        assertThat(jobs.retryBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(jobs.retryMaxBackoff()).isEqualTo(Duration.ofHours(1));
        assertThat(jobs.pollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(jobs.sqliteFullSync()).isTrue();
        assertThat(jobs.sqlitePath().getFileName().toString()).isEqualTo("jobs.db");
    }

    @Test
    void aSqliteStoreInAnExistingDirectoryIsAccepted() throws Exception {
        ShieldpoolConfig.Jobs jobs = load("""
                shieldpool.jobs { store = sqlite, sqlite.path = "%s/q.db", sqlite.synchronous = normal, queue = imports }
                """.formatted(dir)).jobs();
        assertThat(jobs.enabled()).isTrue();
        assertThat(jobs.sqlitePath()).isEqualTo(dir.resolve("q.db"));
        assertThat(jobs.sqliteFullSync()).isFalse();
        assertThat(jobs.queue()).isEqualTo("imports");
    }

    @Test
    void everyBadKeyIsReportedWithItsValueWhatWasExpectedAndWhere() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        List<String> problems = problems("""
                shieldpool.jobs.store = postgres
                shieldpool.jobs.max-attempts = 0
                shieldpool.jobs.retry.backoff = 10s
                shieldpool.jobs.retry.max-backoff = 1s
                shieldpool.jobs.retry.jitter = 1.5
                shieldpool.jobs.poll-interval = 0
                shieldpool.jobs.sqlite.synchronous = off
                shieldpool.jobs.claim-batch = 0
                """);
        assertThat(problems).containsExactlyInAnyOrder(
                "shieldpool.jobs.store: postgres (expected: one of none, sqlite) at " + file + ":1",
                "shieldpool.jobs.max-attempts: 0 (expected: an integer >= 1) at " + file + ":2",
                "shieldpool.jobs.retry.max-backoff: 1s (expected: a duration >= jobs.retry.backoff (10s)) at " + file + ":4",
                "shieldpool.jobs.retry.jitter: 1.5 (expected: a number from 0.0 to 1.0) at " + file + ":5",
                "shieldpool.jobs.poll-interval: 0 (expected: a duration such as 250ms, 30s or 2m, at least 1ms) at " + file + ":6",
                "shieldpool.jobs.sqlite.synchronous: off (expected: one of full, normal) at " + file + ":7",
                "shieldpool.jobs.claim-batch: 0 (expected: an integer >= 1) at " + file + ":8");
    }

    @Test
    void aSqlitePathInAMissingDirectoryIsNamed() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        assertThat(problems("shieldpool.jobs { store = sqlite, sqlite.path = \"/nonexistent/dir/jobs.db\" }"))
                .containsExactly("shieldpool.jobs.sqlite.path: /nonexistent/dir/jobs.db (expected: a file in an existing "
                        + "directory (/nonexistent/dir does not exist)) at " + file + ":1");
    }

    @Test
    void aReloadChangesTheRetryKeysButKeepsTheStoreAndQueue() throws Exception {
        ShieldpoolConfig.Jobs running = load("shieldpool.jobs { store = sqlite, sqlite.path = \"%s/a.db\" }".formatted(dir)).jobs();
        ShieldpoolConfig.Jobs fresh = load("""
                shieldpool.jobs { store = none, queue = other, max-attempts = 3, retry.backoff = 5s, poll-interval = 2s }
                """).jobs();
        ShieldpoolConfig.Jobs applied = running.withLiveKeysOf(fresh);
        assertThat(applied.enabled()).isTrue();
        assertThat(applied.queue()).isEqualTo("default");
        assertThat(applied.sqlitePath()).isEqualTo(dir.resolve("a.db"));
        assertThat(applied.maxAttempts()).isEqualTo(3);
        assertThat(applied.retryBackoff()).isEqualTo(Duration.ofSeconds(5));
        assertThat(applied.pollInterval()).isEqualTo(Duration.ofSeconds(2));
    }
}
