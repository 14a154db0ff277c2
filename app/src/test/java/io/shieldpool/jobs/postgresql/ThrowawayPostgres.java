package io.shieldpool.jobs.postgresql;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5: one {@link PostgresCluster} for a test class, started before its first test and closed
 * (server stopped, directory deleted) after its last; skips the class where PostgreSQL 15 is not
 * installed. Register it as {@code @RegisterExtension static final ThrowawayPostgres pg = new ThrowawayPostgres();}.
 */
public final class ThrowawayPostgres implements BeforeAllCallback, AfterAllCallback {

    private PostgresCluster cluster;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        cluster = PostgresCluster.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    /** The running cluster (from the class's first test on). */
    public PostgresCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException("the cluster is started before the test class's first test");
        }
        return cluster;
    }
}
