package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Creates and migrates the schema ({@code schema.sql}): in one transaction, under a
 * transaction-scoped advisory lock, so daemons starting at once (and {@code shieldpool jobs
 * migrate}) never migrate twice, and nothing depends on a session outliving the transaction
 * (PgBouncer in transaction mode).
 */
final class Schema {

    private static final Logger log = LoggerFactory.getLogger(Schema.class);

    /** The newest schema version this build knows ({@code schema.sql}'s last block). */
    static final int VERSION = 5;
    /** The advisory lock key migrations take: any constant no other application uses. */
    private static final long MIGRATION_LOCK = 7235019810L;

    private Schema() {
    }

    /** Migrates to {@link #VERSION}; the future holds the version found before (0: a new database). */
    static Future<Integer> migrate(Pool pool, String safeUrl) {
        SqlStatements schema = SqlStatements.load("schema.sql");
        return pool.withTransaction(c -> c.query("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")").execute()
                .compose(v -> c.query("CREATE TABLE IF NOT EXISTS shieldpool_schema (version integer NOT NULL,"
                        + " migrated_at timestamptz NOT NULL DEFAULT now())").execute())
                .compose(v -> c.query("SELECT coalesce(max(version), 0) FROM shieldpool_schema").execute())
                .compose(rows -> {
                    int found = rows.iterator().next().getInteger(0);
                    if (found > VERSION) {
                        return Future.failedFuture(new JobStoreException(JobStoreException.Kind.UNUSABLE,
                                "the job store " + safeUrl + " has schema version " + found
                                        + ", newer than this shieldpool knows (" + VERSION + "): run the newer shieldpool"));
                    }
                    Future<Void> chain = Future.succeededFuture();
                    for (int next = found + 1; next <= VERSION; next++) {
                        int version = next;
                        for (String statement : statements(schema.get(Integer.toString(version)))) {
                            chain = chain.compose(v -> c.query(statement).execute().mapEmpty());
                        }
                        chain = chain.compose(v -> c.query("INSERT INTO shieldpool_schema (version) VALUES (" + version + ")")
                                .execute().<Void>mapEmpty()).onSuccess(v -> log.atInfo().addKeyValue("event", "jobs.schema")
                                .addKeyValue("url", safeUrl).addKeyValue("version", version)
                                .log("job store {}: schema version {}", safeUrl, version));
                    }
                    return chain.map(found);
                }));
    }

    private static List<String> statements(String block) {
        List<String> statements = new ArrayList<>();
        for (String statement : block.split(";\\s*\n")) {
            if (!statement.isBlank()) {
                statements.add(statement.strip());
            }
        }
        return statements;
    }
}
