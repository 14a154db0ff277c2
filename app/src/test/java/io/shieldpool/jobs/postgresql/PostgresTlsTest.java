package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The URL's sslmode against a real server with TLS on (a self-signed certificate naming
 * localhost only), as libpq's users expect it: require encrypts without checking the certificate,
 * verify-ca checks it against sslrootcert, verify-full also checks it names the URL's host;
 * sslcert and sslkey present a client certificate. why:
 * sslmode=require failed every connection with a NullPointerException's text and sslrootcert was
 * ignored; a certificate that fails the checks is a mistake (UNUSABLE, exit 78), not a wait.
 */
class PostgresTlsTest {

    private static PostgresCluster cluster;
    private static String database;

    private static int freePort() throws Exception {
        try (ServerSocket free = new ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    @BeforeAll
    static void tlsServer() throws Exception {
        cluster = PostgresCluster.startWithTls(freePort(), "DNS:localhost");
        database = cluster.createDatabase();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String url(String host, String query) {
        return "postgresql://postgres@" + host + ":" + cluster.port() + "/" + database + "?" + query;
    }

    /**
     * Opens the store as the tools do and reads its stats; returns whether its sessions were
     * encrypted, by the server's view (they are named shieldpool: application_name).
     */
    private static boolean openAndAskTheServer(String url) throws Exception {
        PostgresJobStore store = PostgresJobStore.openForTool(PostgresSettings.of(url), Clock.systemUTC());
        try {
            store.stats(List.of("default")).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return !cluster.psql(database, "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)"
                    + " WHERE ssl AND application_name = 'shieldpool'").equals("0");
        } finally {
            store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void requireEncryptsWithoutCheckingTheCertificate() throws Exception {
        assertThat(openAndAskTheServer(url("127.0.0.1", "sslmode=require"))).as("the session is encrypted").isTrue();
        assertThat(openAndAskTheServer(url("127.0.0.1", "sslmode=disable"))).as("disable: plain").isFalse();
    }

    @Test
    void verifyCaTrustsTheCertificateSslrootcertNamesAndVerifyFullAlsoTheHostItNames() throws Exception {
        String roots = "sslrootcert=" + cluster.certificate();
        assertThat(openAndAskTheServer(url("127.0.0.1", "sslmode=verify-ca&" + roots))).isTrue();
        assertThat(openAndAskTheServer(url("localhost", "sslmode=verify-full&" + roots))).isTrue();
        // require with a root certificate checks it, as libpq does
        assertThat(openAndAskTheServer(url("127.0.0.1", "sslmode=require&" + roots))).isTrue();
    }

    /** connect_timeout gives the pool transport options of its own: TLS and its checks must hold with them. */
    @Test
    void aConnectTimeoutKeepsTlsAndItsChecks() throws Exception {
        String roots = "sslrootcert=" + cluster.certificate();
        assertThat(openAndAskTheServer(url("localhost", "sslmode=verify-full&connect_timeout=5&" + roots))).isTrue();
        String wrongHost = url("127.0.0.1", "sslmode=verify-full&connect_timeout=5&" + roots);
        assertThatThrownBy(() -> PostgresJobStore.openForTool(PostgresSettings.of(wrongHost), Clock.systemUTC()))
                .isInstanceOfSatisfying(JobStoreException.class, e -> assertThat(e.getMessage())
                        .contains("the server's certificate failed the URL's sslmode checks"));
    }

    @Test
    void aCertificateThatFailsTheChecksIsOneLineAndAMistakeNotAWait() {
        // the certificate names localhost, not 127.0.0.1
        String wrongHost = url("127.0.0.1", "sslmode=verify-full&sslrootcert=" + cluster.certificate());
        // the JDK's trusted CAs did not sign a self-signed certificate
        String untrusted = url("localhost", "sslmode=verify-ca&sslrootcert=system");
        for (String url : List.of(wrongHost, untrusted)) {
            assertThatThrownBy(() -> PostgresJobStore.openForTool(PostgresSettings.of(url), Clock.systemUTC()))
                    .as(url).isInstanceOfSatisfying(JobStoreException.class, e -> {
                        assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE);
                        assertThat(e.getMessage()).doesNotContain("\n").contains("cannot open the job store " + url,
                                "the server's certificate failed the URL's sslmode checks");
                    });
        }
    }

    @Test
    void requireOnAServerWithoutTlsIsAMistakeNotAWait() throws Exception {
        try (PostgresCluster plain = PostgresCluster.startOnTcp(freePort())) {
            String url = "postgresql://postgres@127.0.0.1:" + plain.port() + "/postgres?sslmode=require";
            assertThatThrownBy(() -> PostgresJobStore.openForTool(PostgresSettings.of(url), Clock.systemUTC()))
                    .isInstanceOfSatisfying(JobStoreException.class, e -> {
                        assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE);
                        assertThat(e.getMessage()).doesNotContain("\n").contains("the URL's sslmode requires TLS and the server has none");
                    });
            String prefer = url.replace("require", "prefer");
            PostgresJobStore store = PostgresJobStore.openForTool(PostgresSettings.of(prefer), Clock.systemUTC());
            store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aServerThatAdmitsByClientCertificateAdmitsTheOneSslcertAndSslkeyName() throws Exception {
        try (PostgresCluster mutual = PostgresCluster.startWithClientCertificates(freePort())) {
            String base = "postgresql://postgres@localhost:" + mutual.port() + "/postgres?sslmode=verify-full&sslrootcert="
                    + mutual.certificate();
            String withCert = base + "&sslcert=" + mutual.clientCertificate() + "&sslkey=" + mutual.clientKey();
            PostgresJobStore store = PostgresJobStore.openForTool(PostgresSettings.of(withCert), Clock.systemUTC());
            store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> PostgresJobStore.openForTool(PostgresSettings.of(base), Clock.systemUTC()))
                    .as("without a client certificate the server refuses").isInstanceOfSatisfying(JobStoreException.class,
                            e -> assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE));
        }
    }

    @Test
    void verifyCaWithoutTheCertificatesToCheckAgainstIsNamed() {
        assertThatThrownBy(() -> PostgresSettings.of(url("localhost", "sslmode=verify-ca")).connectOptions())
                .isInstanceOf(JobStoreException.class).hasMessageContaining("sslmode=verify-ca with sslrootcert=");
    }
}
