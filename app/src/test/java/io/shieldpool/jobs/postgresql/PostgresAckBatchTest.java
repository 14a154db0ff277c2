package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.NewJob;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static io.shieldpool.jobs.JobStoreContract.get;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Group-committed acks (AckBatches, complete-many) on a real PostgreSQL 15: acks written in one
 * statement keep their fencing job by job, and each caller gets its own answer.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PostgresAckBatchTest {

    private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");

    @RegisterExtension
    static final ThrowawayPostgres pg = new ThrowawayPostgres();

    private final PostgresCluster cluster = pg.cluster();
    private final MutableClock clock = new MutableClock(START);
    private String database;
    private PostgresJobStore store;

    @BeforeEach
    void openStore() throws Exception {
        database = cluster.createDatabase();
        store = PostgresJobStore.openForDaemon(PostgresSettings.of(cluster.uri(database)), JobOwner.thisProcess(), clock);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            get(store.close());
        }
    }

    @Test
    void aBatchMixingValidAndStaleAcksLandsTheValidOnesAndRejectsTheStaleOnesWithoutTouchingTheirJobs() throws Exception {
        get(store.enqueue(List.of(job(Optional.empty()), job(Optional.empty()), job(Optional.empty()), job(Optional.of("order-4")))));
        List<Job> claimed = new ArrayList<>(get(store.claim("default", 4)));
        claimed.sort(Comparator.comparingLong(Job::id));
        Job valid = claimed.get(0);
        Job released = claimed.get(1);
        Job takenOver = claimed.get(2);
        Job keyed = claimed.get(3);
        // a stale attempt of our own: released with the attempt counted, then claimed again (attempt 2)
        assertThat(get(store.release(List.of(released), true))).isEqualTo(1);
        Job again = get(store.claim("default", 1)).getFirst();
        assertThat(again.id()).isEqualTo(released.id());
        assertThat(again.attempt()).isEqualTo(2);
        // a stale attempt another node took over (as a rescue and its next claim leave the row)
        cluster.psql(database, "UPDATE shieldpool_jobs SET owner = 'elsewhere/77/x', attempt = 2 WHERE id = " + takenOver.id());

        store.holdAcksForTest();
        long batchesBefore = store.ackBatchesForTest()[0];
        Future<Boolean> validAck = store.complete(valid);
        Future<Boolean> releasedAck = store.complete(released);
        Future<Boolean> takenOverAck = store.complete(takenOver);
        Future<Boolean> keyedAck = store.complete(keyed);
        Future<Boolean> againAck = store.complete(again);
        Future<Boolean> secondAckOfValid = store.complete(valid);
        store.resumeAcksForTest();

        assertThat(get(validAck)).as("the valid ack").isTrue();
        assertThat(get(keyedAck)).as("the keyed job's valid ack").isTrue();
        assertThat(get(releasedAck)).as("the ack of an attempt that was released").isFalse();
        assertThat(get(takenOverAck)).as("the ack of an attempt another node took over").isFalse();
        assertThat(get(againAck)).as("the current attempt of the released job, acked after its stale attempt").isTrue();
        assertThat(get(secondAckOfValid)).as("a second ack of the same attempt").isFalse();
        long[] batches = store.ackBatchesForTest();
        assertThat(batches[0] - batchesBefore).as("statements: one for the first four, one for the repeated jobs").isEqualTo(2);
        assertThat(batches[1]).as("the first batch held the four different jobs").isEqualTo(4);

        assertThat(cluster.psql(database, "SELECT string_agg(id || ':' || attempt, ',' ORDER BY id) FROM shieldpool_jobs_done"))
                .isEqualTo(valid.id() + ":1," + released.id() + ":2," + keyed.id() + ":1");
        assertThat(cluster.psql(database, "SELECT state || ' ' || owner || ' ' || attempt FROM shieldpool_jobs WHERE id = " + takenOver.id()))
                .as("the job another node holds is left as it was").isEqualTo("running elsewhere/77/x 2");
        assertThat(get(store.enqueue(List.of(job(Optional.of("order-4"))))).getFirst())
                .as("the keyed job's key stays taken by its done row").satisfies(e -> {
                    assertThat(e.created()).isFalse();
                    assertThat(e.id()).isEqualTo(keyed.id());
                });
    }

    @Test
    void aGroupOfAcksIsAnsweredAsOneJobByJobAndSharesTheBatchesWithSingleAcks() throws Exception {
        get(store.enqueue(List.of(job(Optional.empty()), job(Optional.empty()), job(Optional.of("order-3")))));
        List<Job> claimed = new ArrayList<>(get(store.claim("default", 3)));
        claimed.sort(Comparator.comparingLong(Job::id));
        Job valid = claimed.get(0);
        Job released = claimed.get(1);
        Job keyed = claimed.get(2);
        assertThat(get(store.release(List.of(released), true))).isEqualTo(1);
        Job again = get(store.claim("default", 1)).getFirst();
        assertThat(again.id()).isEqualTo(released.id());

        store.holdAcksForTest();
        long batchesBefore = store.ackBatchesForTest()[0];
        Future<io.shieldpool.jobs.AckResults> group = store.completeAll(List.of(valid, released, keyed));
        Future<Boolean> secondAckOfValid = store.complete(valid);
        Future<io.shieldpool.jobs.AckResults> groupOfOne = store.completeAll(List.of(again));
        store.resumeAcksForTest();

        assertThat(get(group).landed()).as("the group's valid acks").containsExactlyInAnyOrder(valid.id(), keyed.id());
        assertThat(get(group).failed()).isEmpty();
        assertThat(get(secondAckOfValid)).as("a second ack of an attempt in the group").isFalse();
        assertThat(get(groupOfOne).landed()).as("the current attempt of the released job").containsExactly(again.id());
        assertThat(store.ackBatchesForTest()[0] - batchesBefore).as("one statement for the distinct jobs, one for the repeat")
                .isEqualTo(2);
        assertThat(cluster.psql(database, "SELECT string_agg(id || ':' || attempt, ',' ORDER BY id) FROM shieldpool_jobs_done"))
                .isEqualTo(valid.id() + ":1," + released.id() + ":2," + keyed.id() + ":1");
        assertThat(get(store.completeAll(List.of()))).satisfies(none -> assertThat(none.landed()).isEmpty());
    }

    @Test
    void acksThatArriveWhileOneIsWrittenShareOneStatement() throws Exception {
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            batch.add(job(Optional.empty()));
        }
        get(store.enqueue(batch));
        List<Job> claimed = get(store.claim("default", 500));
        long before = store.ackBatchesForTest()[0];

        List<Future<Boolean>> acks = claimed.stream().map(store::complete).toList();

        assertThat(acks).allSatisfy(ack -> assertThat(get(ack)).isTrue());
        long statements = store.ackBatchesForTest()[0] - before;
        System.out.printf("500 acks requested at once: %d statement(s), the largest %d acks%n", statements,
                store.ackBatchesForTest()[1]);
        assertThat(statements).as("far fewer statements than acks").isLessThan(100);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo("500");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs")).isEqualTo("0");
    }

    /**
     * A batch as big as group commit makes them under load (1,000 acks, the most one statement
     * holds), sent after the statement has run often enough on every pooled connection for the
     * server to plan it generically, with fencing mixed in: jobs rescued and ready again, jobs
     * another node took over. The time of the big statement against a small one is printed:
     * before the fix it grew with the square of the batch (1,000 acks: about 1 s).
     */
    @Test
    void aThousandAcksInOneStatementLandTheValidOnesAndFenceTheRescuedOnesRowByRow() throws Exception {
        int warmUp = 60;
        int big = 1_000;
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < warmUp + 10 + big; i++) {
            batch.add(job(Optional.empty()));
        }
        get(store.enqueue(batch));
        // a backlog of another queue, and the stats a daemon sees at its start: nothing running yet.
        // why run_at START, not now(): due at the store's clock (the test's), as a daemon's backlog
        // is; the server's now() is the real date, later than START and so not due at it
        cluster.psql(database, "INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at)"
                + " SELECT 'backlog', '{}', 'ready', 0, 3, timestamptz '" + START + "', now() FROM generate_series(1, 20000)");
        cluster.psql(database, "ANALYZE shieldpool_jobs");
        List<Job> claimed = new ArrayList<>(get(store.claim("default", warmUp + 10 + big)));
        claimed.sort(Comparator.comparingLong(Job::id));
        // why one by one: each pooled connection runs the statement more than 5 times, so the
        // server may switch it to a generic plan (array sizes unknown), as in a long-running daemon
        for (Job job : claimed.subList(0, warmUp)) {
            assertThat(get(store.complete(job))).isTrue();
        }
        long smallMillis = timedBatch(claimed.subList(warmUp, warmUp + 10)).elapsedMillis();

        List<Job> bigBatch = claimed.subList(warmUp + 10, warmUp + 10 + big);
        List<Long> rescued = new ArrayList<>();
        List<Long> takenOver = new ArrayList<>();
        for (int i = 0; i < big; i += 10) {
            rescued.add(bigBatch.get(i).id());
            takenOver.add(bigBatch.get(i + 5).id());
        }
        // as a rescue leaves them (ready again, the cut attempt counted), and as another node's claim
        // after it (a live node: this store's own rescue must leave its jobs alone)
        cluster.psql(database, "INSERT INTO shieldpool_nodes (id, host, pid, ttl, state) VALUES ('elsewhere/77/x', 'elsewhere', 77,"
                + " interval '1 hour', 'running')");
        cluster.psql(database, "UPDATE shieldpool_jobs SET state = 'ready', owner = NULL, lease_until = NULL WHERE id IN ("
                + join(rescued) + ")");
        cluster.psql(database, "UPDATE shieldpool_jobs SET owner = 'elsewhere/77/x', attempt = 2 WHERE id IN ("
                + join(takenOver) + ")");
        TimedBatch bigAcks = timedBatch(bigBatch);

        long[] batches = store.ackBatchesForTest();
        System.out.printf("acks in one statement: 10 in %d ms, %d (%d fenced) in %d ms%n", smallMillis, big,
                rescued.size() + takenOver.size(), bigAcks.elapsedMillis());
        assertThat(batches[1]).as("the big batch went as one statement").isEqualTo(big);
        for (int i = 0; i < big; i++) {
            long id = bigBatch.get(i).id();
            boolean fenced = rescued.contains(id) || takenOver.contains(id);
            assertThat(get(bigAcks.answers().get(i))).as("the ack of job %d (fenced: %s)", id, fenced).isEqualTo(!fenced);
        }
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo(String.valueOf(warmUp + 10 + big - 200));
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done WHERE id IN (" + join(rescued) + ", "
                + join(takenOver) + ")")).as("no fenced ack moved its job").isEqualTo("0");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'ready' AND owner IS NULL AND id IN ("
                + join(rescued) + ")")).as("the rescued jobs stay ready").isEqualTo("100");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'running' AND owner = 'elsewhere/77/x'"
                + " AND attempt = 2 AND id IN (" + join(takenOver) + ")")).as("the jobs the other node holds stay its own").isEqualTo("100");
    }

    /** Acks {@code jobs} in one statement (held, then released at once) and waits for every answer. */
    private TimedBatch timedBatch(List<Job> jobs) {
        store.holdAcksForTest();
        List<Future<Boolean>> answers = jobs.stream().map(store::complete).toList();
        long begun = System.nanoTime();
        store.resumeAcksForTest();
        answers.forEach(JobStoreContract::get);
        return new TimedBatch(answers, (System.nanoTime() - begun) / 1_000_000);
    }

    private record TimedBatch(List<Future<Boolean>> answers, long elapsedMillis) {
    }

    private static String join(List<Long> ids) {
        return ids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
    }

    private static NewJob job(Optional<String> key) {
        return new NewJob("default", "{}", 3, START, key);
    }
}
