package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The contract suite on a real PostgreSQL 15 with {@code jobs.postgresql.statement-cache = true}:
 * every statement is prepared once per connection and then only bound and executed, so a
 * statement whose parameters' types differ between executions (a null, another array type)
 * would fail here and not without the cache.
 */
class PostgresStatementCacheTest extends JobStoreContract {

    @RegisterExtension
    static final ThrowawayPostgres pg = new ThrowawayPostgres();

    private final PostgresCluster cluster = pg.cluster();
    private String database;

    private PostgresSettings settings() {
        return PostgresSettings.of(cluster.uri(database)).withStatementCache(true);
    }

    @Override
    protected JobStore openFresh(MutableClock clock) throws Exception {
        database = cluster.createDatabase();
        return PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock);
    }

    @Override
    protected JobStore reopenAsNextOwner(MutableClock clock) {
        return PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock);
    }
}
