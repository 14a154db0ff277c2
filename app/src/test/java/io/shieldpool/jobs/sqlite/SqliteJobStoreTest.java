package io.shieldpool.jobs.sqlite;

import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.NewJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The contract suite on a real SQLite file, plus what only the SQLite store does. */
class SqliteJobStoreTest extends JobStoreContract {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("jobs.db");
    }

    @Override
    protected JobStore openFresh(MutableClock clock) {
        return SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock);
    }

    @Override
    protected JobStore reopenAsNextOwner(MutableClock clock) {
        return SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock);
    }

    @Test
    void aSecondDaemonOnTheSameFileIsRefusedWithOneClearLine() {
        assertThatThrownBy(() -> SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock))
                .isInstanceOfSatisfying(JobStoreException.class, e -> {
                    assertThat(e.kind()).isEqualTo(JobStoreException.Kind.IN_USE);
                    assertThat(e.getMessage()).contains(file().toString()).contains("in use by another shieldpool daemon")
                            .contains("pid " + ProcessHandle.current().pid()).doesNotContain("\n");
                });
    }

    @Test
    void aToolOpensTheStoreWhileTheDaemonHoldsItAndItsEnqueueWakesTheDaemon() {
        AtomicInteger wakes = new AtomicInteger();
        store.onJobsAvailable(wakes::incrementAndGet);
        JobStore tool = track(SqliteJobStore.openForTool(SqliteSettings.of(file()), clock));

        long id = get(tool.enqueue(List.of(new NewJob("default", "{}", 3, START, Optional.empty())))).getFirst().id();

        await().atMost(Duration.ofSeconds(5)).until(() -> wakes.get() >= 1);
        assertThat(get(store.claim("default", 5))).extracting(j -> j.id()).containsExactly(id);
        assertThat(get(tool.stats(List.of())).getFirst().count(io.shieldpool.jobs.JobState.RUNNING)).isEqualTo(1);
    }

    @Test
    void aFileWithANewerSchemaIsRefused() throws Exception {
        get(store.close());
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file()); var s = c.createStatement()) {
            s.execute("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock))
                .isInstanceOfSatisfying(JobStoreException.class, e -> {
                    assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE);
                    assertThat(e.getMessage()).contains("schema version 99");
                });
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path nowhere = dir.resolve("missing/jobs.db");
        assertThatThrownBy(() -> SqliteJobStore.openForTool(SqliteSettings.of(nowhere), clock))
                .isInstanceOf(JobStoreException.class).hasMessageContaining("shieldpool.jobs.sqlite.path: " + nowhere);
    }

    @Test
    void theFileIsInWalModeWithTheChosenSynchronousSetting() throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file()); var s = c.createStatement();
             var rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
        }
    }
}
