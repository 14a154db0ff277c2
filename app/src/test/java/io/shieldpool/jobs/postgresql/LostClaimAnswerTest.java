package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.NewJob;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static io.shieldpool.jobs.JobStoreContract.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * release-strays on a real PostgreSQL: a claim whose commit lands while its answer is lost with
 * the connection ({@link ClaimAnswerProxy} holds the answer after the commit, then cuts the
 * connection) leaves jobs running under this node that no worker will ever start, and, on a
 * limited queue, slots nobody uses. The store must give them back at a heartbeat, uncounted,
 * without touching what it holds legitimately: the jobs it was told of, and those of a claim whose
 * answer is still on its way (committed, not yet delivered).
 */
@Timeout(120)
class LostClaimAnswerTest {

    @RegisterExtension
    static final ThrowawayPostgres pg = new ThrowawayPostgres();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static ClaimAnswerProxy proxy;

    private String database;
    private PostgresJobStore store;
    private String owner;
    /** The jobs the store claimed and was told of before each test's lost answer. */
    private List<Job> held;

    @BeforeAll
    static void startProxy() throws Exception {
        proxy = ClaimAnswerProxy.start(pg.cluster());
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            try {
                get(store.close());
            } catch (RuntimeException ignored) {
                // closed already
            }
        }
    }

    @org.junit.jupiter.api.AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /**
     * Each test's set-up: a new database of 12 ready jobs, a store on it through the proxy (with
     * that concurrency limit on its queue, none when 0), holding {@code holding} jobs it claimed.
     * why a rate beside the concurrency: a limited claim (the queue's lock, running jobs counted)
     * is a queue with a rate; a concurrency alone is held by slots and claims as an unlimited queue.
     */
    private void openHolding(int concurrency, int holding) throws Exception {
        database = pg.cluster().createDatabase();
        PostgresSettings settings = PostgresSettings.of(proxy.uri(database))
                .withLeases(HEARTBEAT, Duration.ofSeconds(5), Duration.ofMinutes(15))
                .withLimits("default", concurrency, concurrency > 0 ? 1000 : 0, concurrency > 0 ? 1000 : 0);
        store = PostgresJobStore.openForDaemon(settings, JobOwner.thisProcess(), Clock.systemUTC());
        owner = store.owner().id();
        List<NewJob> jobs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            jobs.add(new NewJob("default", "{\"n\":" + i + "}", 3, Instant.now().minusSeconds(1), Optional.empty()));
        }
        get(store.enqueue(jobs));
        held = get(store.claim("default", holding));
        assertThat(held).hasSize(holding);
    }

    /** A claim of {@code n} jobs whose answer the proxy holds once its transaction has committed them all. */
    private HeldClaim claimWithAnswerHeld(int n) throws Exception {
        ClaimAnswerProxy.HeldAnswer answer = proxy.holdNextClaim();
        Future<List<Job>> claim = store.claim("default", n);
        assertThat(answer.awaitCommitted(Duration.ofSeconds(10))).as("jobs the held answer carries").isEqualTo(n);
        return new HeldClaim(answer, claim);
    }

    private record HeldClaim(ClaimAnswerProxy.HeldAnswer answer, Future<List<Job>> claim) {
    }

    @Test
    void jobsOfAClaimWhoseAnswerWasLostComeBackReadyUncountedAndNothingHeldIsReleased() throws Exception {
        openHolding(0, 3);

        // a claim commits, its answer is lost: the store is told nothing (the claim comes back empty)
        HeldClaim lost = claimWithAnswerHeld(4);
        Set<Long> strays = runningUnder(owner);
        strays.removeAll(ids(held));
        assertThat(strays).as("committed: running under this node, never delivered").hasSize(4);
        // meanwhile another claim commits and its answer is on its way (held, delivered later): its
        // jobs are not strays, so nothing may be given back while it is in flight
        HeldClaim late = claimWithAnswerHeld(2);
        lost.answer().cut();
        assertThat(get(lost.claim())).as("a claim that failed on a lost connection returns nothing").isEmpty();
        String beatBefore = heartbeatOf(owner);
        await().during(Duration.ofMillis(5 * HEARTBEAT.toMillis())).atMost(Duration.ofSeconds(10))
                .until(() -> runningUnder(owner).size() == 9);
        assertThat(heartbeatOf(owner)).as("heartbeats went on meanwhile").isNotEqualTo(beatBefore);
        late.answer().deliver();
        List<Job> delivered = get(late.claim());
        assertThat(delivered).hasSize(2).allSatisfy(j -> assertThat(strays).doesNotContain(j.id()));

        // at a heartbeat with no claim in flight: the strays are ready again, their attempt not counted
        await().atMost(Duration.ofSeconds(10)).until(() -> readyUncounted().containsAll(strays));
        Set<Long> legit = ids(held);
        legit.addAll(ids(delivered));
        assertThat(runningUnder(owner)).as("what the store holds stays running under it").isEqualTo(legit);
        assertThat(pg.cluster().psql(database, "SELECT string_agg(DISTINCT attempt::text, ',') FROM shieldpool_jobs"
                + " WHERE state = 'running'")).isEqualTo("1");

        // and nothing is lost: every job done once, at attempt 1 (the strays' lost attempt never counted)
        for (Job job : held) {
            assertThat(get(store.complete(job))).as("the ack of a job held all along").isTrue();
        }
        for (Job job : delivered) {
            assertThat(get(store.complete(job))).as("the ack of a job whose answer came late").isTrue();
        }
        drain();
        assertThat(pg.cluster().psql(database, "SELECT count(*) || ' ' || string_agg(DISTINCT attempt::text, ',')"
                + " FROM shieldpool_jobs_done")).isEqualTo("12 1");
        assertThat(pg.cluster().psql(database, "SELECT count(*) FROM shieldpool_jobs")).isEqualTo("0");
    }

    @Test
    void aLimitedClaimsLostAnswerGivesItsSlotsBack() throws Exception {
        openHolding(6, 2);

        // the limited claim (one statement: the function locks the queue's row, then claims) lands, its answer is lost
        HeldClaim lost = claimWithAnswerHeld(4);
        lost.answer().cut();
        assertThat(get(lost.claim())).isEmpty();
        Set<Long> strays = runningUnder(owner);
        strays.removeAll(ids(held));

        // the strays gave their 4 slots back: a claim gets them (only them: the limit is 6)
        await().atMost(Duration.ofSeconds(10)).until(() -> readyUncounted().containsAll(strays));
        List<Job> again = get(store.claim("default", 10));
        assertThat(again).hasSize(4).allSatisfy(j -> assertThat(j.attempt()).as("uncounted").isEqualTo(1));
        assertThat(runningUnder(owner)).hasSize(6);
        for (Job job : held) {
            assertThat(get(store.complete(job))).isTrue();
        }
        for (Job job : again) {
            assertThat(get(store.complete(job))).isTrue();
        }
        drain();
        assertThat(pg.cluster().psql(database, "SELECT count(*) || ' ' || string_agg(DISTINCT attempt::text, ',')"
                + " FROM shieldpool_jobs_done")).isEqualTo("12 1");
    }

    /** Claims and acks until the queue is empty. */
    private void drain() {
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            for (Job job : get(store.claim("default", 10))) {
                assertThat(job.attempt()).isEqualTo(1);
                assertThat(get(store.complete(job))).isTrue();
            }
            return pg.cluster().psql(database, "SELECT count(*) FROM shieldpool_jobs").equals("0");
        });
    }

    private Set<Long> runningUnder(String owner) throws Exception {
        return idSet(pg.cluster().psql(database, "SELECT string_agg(id::text, ',') FROM shieldpool_jobs"
                + " WHERE state = 'running' AND owner = '" + owner + "'"));
    }

    private Set<Long> readyUncounted() throws Exception {
        return idSet(pg.cluster().psql(database, "SELECT string_agg(id::text, ',') FROM shieldpool_jobs"
                + " WHERE state = 'ready' AND attempt = 0 AND owner IS NULL"));
    }

    private String heartbeatOf(String owner) throws Exception {
        return pg.cluster().psql(database, "SELECT heartbeat_at FROM shieldpool_nodes WHERE id = '" + owner + "'");
    }

    private static Set<Long> idSet(String csv) {
        return csv.isEmpty() ? new HashSet<>()
                : Arrays.stream(csv.split(",")).map(Long::parseLong).collect(Collectors.toCollection(HashSet::new));
    }

    private static Set<Long> ids(List<Job> jobs) {
        return jobs.stream().map(Job::id).collect(Collectors.toCollection(HashSet::new));
    }
}
