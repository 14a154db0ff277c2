package io.shieldpool.e2e;

import io.shieldpool.jobs.postgresql.PostgresCluster;
import io.shieldpool.jobs.postgresql.PostgresCluster.KeyEncryption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon on a real PostgreSQL with TLS on that admits only by client certificate (pg_hba.conf:
 * hostssl ... cert), with the URL's sslcrl and sslpassword: a revocation list that revokes the
 * server's certificate, or a wrong passphrase for the encrypted client key, stops the start with
 * exit 78 and one line naming the list or the key, no stack trace and the passphrase never shown;
 * a list that revokes nothing and the right passphrase start it. Real launcher, certificates and
 * lists made by openssl.
 */
@Timeout(120)
class PostgresTlsIT {

    private static final String PASSPHRASE = "Ek7-daemon-pw";

    private static PostgresCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void tlsServer() throws Exception {
        cluster = PostgresCluster.startWithClientCertificates();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The daemon's config: the store at the TLS server with {@code key} and {@code query}, exec sections. */
    private String config(Path key, String query) {
        String url = "postgresql://postgres@localhost:" + cluster.port() + "/postgres?sslmode=verify-full&sslrootcert="
                + cluster.certificate() + "&sslcert=" + cluster.clientCertificate() + "&sslkey=" + key + "&" + query;
        return String.join("\n", PostgresNodes.store(url), "shieldpool.admin.enabled = false",
                PostgresNodes.execRecordingWork(dir.resolve("sections.log"), "a", "0.05"), "");
    }

    /** The daemon run to its end with its default (text) log lines, stdout and stderr together. */
    private ToolRun daemon(String config) throws Exception {
        Path file = Files.writeString(dir.resolve("shieldpool-" + System.nanoTime() + ".conf"), config);
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString(), "--config",
                file.toString())));
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("SHIELDPOOL_CONFIG");
        builder.environment().remove("NOTIFY_SOCKET");
        return ToolRun.of(builder);
    }

    /** Exit 78 and exactly one error line, with {@code fragments}; no stack trace. */
    private static void refusedWithOneLine(ToolRun run, String... fragments) {
        assertThat(run.exitCode()).as(run.out()).isEqualTo(78);
        assertThat(run.out().lines().filter(l -> l.contains(" ERROR ")).toList())
                .as(run.out()).singleElement().asString().contains(fragments);
        assertThat(run.out()).doesNotContain("\tat ", "Exception", "event=ready");
    }

    @Test
    void aRevocationListThatRevokesTheServersCertificateStopsTheStartWith78AndOneLineNamingIt() throws Exception {
        Path crl = cluster.revocationList(true, false);
        ToolRun run = daemon(config(cluster.clientKey(), "sslcrl=" + crl));
        refusedWithOneLine(run, "the server's certificate failed the URL's sslmode checks: sslcrl " + crl
                + " revokes the server's certificate (CN=localhost, serial ", "not started (exit 78)");
    }

    @Test
    void aWrongSslpasswordStopsTheStartWith78AndOneLineNamingTheKeyNeverThePassphrase() throws Exception {
        Path key = cluster.encryptedClientKey(PASSPHRASE, KeyEncryption.PKCS8);
        String wrong = "Wrong-" + PASSPHRASE;
        ToolRun run = daemon(config(key, "sslpassword=" + wrong));
        refusedWithOneLine(run, "shieldpool.jobs.postgresql.url: sslkey " + key
                + " cannot be decrypted with the URL's sslpassword (wrong sslpassword?)");
        assertThat(run.out()).doesNotContain(wrong).contains("sslpassword=***");
    }

    @Test
    void aListThatRevokesNothingAndTheRightPassphraseStartTheDaemonAuthenticatedByItsCertificate() throws Exception {
        Path key = cluster.encryptedClientKey(PASSPHRASE, KeyEncryption.TRADITIONAL);
        Path crl = cluster.revocationList(false, true);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(key, "sslpassword=" + PASSPHRASE + "&sslcrl=" + crl))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(60));
            assertThat(cluster.psql("postgres", "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)"
                    + " WHERE ssl AND client_dn = '/CN=postgres' AND application_name = 'shieldpool'"))
                    .as("the daemon's sessions: TLS, admitted by its client certificate").isNotEqualTo("0");
            PostgresNodes.terminate(daemon, Duration.ofSeconds(30));
            assertThat(daemon.stdout()).as("the effective configuration, logged at the start, masks the passphrase")
                    .anyMatch(l -> l.contains("sslpassword=***")).noneMatch(l -> l.contains(PASSPHRASE));
            assertThat(daemon.stderr()).noneMatch(l -> l.contains(PASSPHRASE) || l.contains("\tat "));
        }
    }
}
