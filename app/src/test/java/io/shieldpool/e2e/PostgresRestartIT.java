package io.shieldpool.e2e;

import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A same-host restart after a SIGKILL, five times in a row on one real PostgreSQL database: each
 * new daemon recovers every job its dead predecessor left running before it reports ready, and
 * the time that takes is printed, split into its parts (median of the runs): the JVM and the
 * config up to the first log line, the store's open (its Vert.x, the connection, the schema
 * check, the node's registration), the recovery itself, and from there to ready. A benchmark's
 * figures, printed; the test asserts only what must happen, and in which order.
 */
@Timeout(180)
class PostgresRestartIT {

    private static final int RUNS = 5;

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    @TempDir
    Path dir;

    private String config(String database, Path sections) {
        return String.join("\n",
                "shieldpool.pool.size = 4",
                pg.recordingWork(sections, "a", Duration.ofMillis(300)),
                pg.storeOf(database));
    }

    private static long running(String database) throws Exception {
        return Long.parseLong(pg.cluster().psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'running'"));
    }

    @Test
    void eachSameHostRestartRecoversItsPredecessorsJobsBeforeItIsReady() throws Exception {
        String database = pg.cluster().createDatabase();
        Path sections = dir.resolve("sections.log");
        String cfg = config(database, sections);
        List<long[]> runs = new ArrayList<>();
        DaemonProcess previous = DaemonProcess.start(dir, cfg);
        try {
            previous.awaitEvent("ready", Duration.ofSeconds(60));
            PostgresJobStore tool = PostgresJobStore.openForTool(PostgresSettings.of(pg.cluster().uri(database)), Clock.systemUTC());
            try {
                List<NewJob> jobs = IntStream.range(0, 2_000).mapToObj(i -> new NewJob("default", "{}", 25, Instant.now(),
                        Optional.<String>empty())).toList();
                tool.enqueue(jobs).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            } finally {
                tool.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
            for (int run = 1; run <= RUNS; run++) {
                DaemonProcess dying = previous;
                dying.awaitTrue(() -> {
                    try {
                        return running(database) >= 4;
                    } catch (Exception e) {
                        return false;
                    }
                }, Duration.ofSeconds(60), "jobs running");
                dying.signal("KILL");
                dying.awaitExit(Duration.ofSeconds(10));
                dying.close();
                long orphans = running(database);
                assertThat(orphans).as("the killed daemon left running jobs").isPositive();

                DaemonProcess next = DaemonProcess.start(dir, cfg);
                previous = next;
                JsonObject ready = next.awaitEvent("ready", Duration.ofSeconds(60));
                JsonObject open = next.awaitEvent("jobs.open", Duration.ofSeconds(1));
                assertThat(open.getLong("recovered")).as("run %d: every job its predecessor left running, at once", run)
                        .isEqualTo(orphans);
                assertThat(next.events().indexOf(open)).as("recovered before ready").isLessThan(next.events().indexOf(ready));
                Instant processStart = ProcessHandle.of(next.pid()).flatMap(p -> p.info().startInstant()).orElseThrow();
                Instant firstLine = DaemonProcess.timestamp(next.events().getFirst());
                Instant opened = DaemonProcess.timestamp(open);
                long openMs = open.getLong("open_ms");
                long recoverMs = open.getLong("took_ms");
                long total = Duration.between(processStart, opened).toMillis();
                long jvm = Duration.between(processStart, firstLine).toMillis();
                long readyAfter = Duration.between(opened, DaemonProcess.timestamp(ready)).toMillis();
                runs.add(new long[]{total, jvm, openMs, recoverMs, total - jvm - openMs - recoverMs, readyAfter});
                System.out.printf("restart %d: %d orphan(s) ready again %d ms after the process started (JVM and config to"
                                + " the first line %d, store open %d, recovery %d, other %d; ready %d ms later)%n", run, orphans,
                        total, jvm, openMs, recoverMs, total - jvm - openMs - recoverMs, readyAfter);
            }
            System.out.printf("same-host restart, median of %d: orphans ready again %d ms after the process started"
                            + " (JVM and config %d, store open %d, recovery %d, other %d; ready %d ms later)%n", RUNS,
                    median(runs, 0), median(runs, 1), median(runs, 2), median(runs, 3), median(runs, 4), median(runs, 5));
            previous.signal("TERM");
            assertThat(previous.awaitExit(Duration.ofSeconds(40))).isZero();
        } finally {
            previous.close();
        }
    }

    private static long median(List<long[]> runs, int column) {
        long[] values = runs.stream().mapToLong(r -> r[column]).sorted().toArray();
        return values[values.length / 2];
    }
}
