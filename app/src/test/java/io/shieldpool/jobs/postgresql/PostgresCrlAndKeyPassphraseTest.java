package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.postgresql.PostgresCluster.KeyEncryption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.X509ExtendedTrustManager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The URL's sslcrl and sslpassword against a real server with TLS on that admits only by client
 * certificate (pg_hba.conf: hostssl ... cert), its certificates signed by its own CA, as libpq
 * reads them: a revocation list (PEM or DER, made by openssl ca) that revokes the server's
 * certificate refuses the server with one line naming the list, one that does not lets it
 * through; a client key encrypted as openssl writes it (PKCS#8 or traditional PEM) is decrypted
 * with sslpassword, and a wrong one is one line naming the key, the passphrase never shown. why:
 * both parameters were refused as ones the client does not read, and the client's PEM reader
 * takes no encrypted key.
 */
class PostgresCrlAndKeyPassphraseTest {

    private static final String PASSPHRASE = "Kp4-sslpw";

    private static PostgresCluster cluster;

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

    private static String url(String query) {
        return "postgresql://postgres@localhost:" + cluster.port() + "/postgres?sslmode=verify-full&sslrootcert="
                + cluster.certificate() + "&" + query;
    }

    private static String withClientKey(Path key) {
        return "sslcert=" + cluster.clientCertificate() + "&sslkey=" + key;
    }

    /** Opens the store as the tools do, asks it a question and closes it: the server admitted it. */
    private static void openAndAsk(String url) throws Exception {
        PostgresJobStore store = PostgresJobStore.openForTool(PostgresSettings.of(url), Clock.systemUTC());
        try {
            store.stats(List.of("default")).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } finally {
            store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static JobStoreException refused(String url) {
        try {
            PostgresJobStore.openForTool(PostgresSettings.of(url), Clock.systemUTC()).close();
        } catch (JobStoreException e) {
            assertThat(e.kind()).as(e.getMessage()).isEqualTo(JobStoreException.Kind.UNUSABLE);
            assertThat(e.getMessage()).doesNotContain("\n");
            return e;
        }
        throw new AssertionError("the store opened: " + url);
    }

    @Test
    void aRevocationListThatRevokesTheServersCertificateRefusesItNamingTheList() throws Exception {
        for (boolean der : List.of(false, true)) {
            Path crl = cluster.revocationList(true, der);
            assertThat(refused(url(withClientKey(cluster.clientKey()) + "&sslcrl=" + crl)).getMessage()).as(der ? "DER" : "PEM")
                    .contains("the server's certificate failed the URL's sslmode checks: sslcrl " + crl
                            + " revokes the server's certificate (CN=localhost, serial ");
        }
    }

    @Test
    void aRevocationListThatDoesNotRevokeItLetsTheServerThrough() throws Exception {
        for (boolean der : List.of(false, true)) {
            openAndAsk(url(withClientKey(cluster.clientKey()) + "&sslcrl=" + cluster.revocationList(false, der)));
        }
    }

    /**
     * With sslcrl the certificate check is the store's own trust manager: verify-full must still
     * check that the certificate names the URL's host (it names localhost, not 127.0.0.1), and
     * verify-ca must not.
     */
    @Test
    void withARevocationListVerifyFullStillChecksTheHostName() throws Exception {
        String crl = cluster.revocationList(false, false).toString();
        String byAddress = "postgresql://postgres@127.0.0.1:" + cluster.port() + "/postgres?sslrootcert=" + cluster.certificate()
                + "&" + withClientKey(cluster.clientKey()) + "&sslcrl=" + crl;
        assertThat(refused(byAddress + "&sslmode=verify-full").getMessage())
                .contains("the server's certificate failed the URL's sslmode checks");
        openAndAsk(byAddress + "&sslmode=verify-ca");
    }

    @Test
    void aRevocationListNotSignedByTheServersCaIsNoListOfItsIssuerAndRefusesIt() throws Exception {
        // as libpq (OpenSSL's CRL_CHECK_ALL): a certificate whose issuer has no valid list in the file is not taken
        Path crl = cluster.revocationListOfAnotherCa();
        assertThat(refused(url(withClientKey(cluster.clientKey()) + "&sslcrl=" + crl)).getMessage())
                .contains("sslcrl " + crl + " holds no valid revocation list from the issuer of the server's certificate"
                        + " (CN=localhost, serial ");
    }

    /** The certificates of a PEM file. */
    private static List<X509Certificate> certificates(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream().map(X509Certificate.class::cast).toList();
        }
    }

    @Test
    void aRenewedRevocationListIsReadAtTheNextHandshakeWithoutARestart() throws Exception {
        // as libpq, which reads sslcrl at each connection: a list replaced by cron applies to the next connections
        Path crl = Files.copy(cluster.revocationList(false, false), cluster.hostCertificate().resolveSibling("renewed.crl"));
        ServerCertificateCheck check = new ServerCertificateCheck(crl.toString());
        X509ExtendedTrustManager trust = check.trustManager(certificates(cluster.certificate()));
        X509Certificate[] server = certificates(cluster.hostCertificate()).toArray(X509Certificate[]::new);
        trust.checkServerTrusted(server, "RSA");
        assertThat(check.refusal()).isEmpty();

        Path revoking = cluster.revocationList(true, false);
        Files.copy(revoking, crl, StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> trust.checkServerTrusted(server, "RSA")).isInstanceOf(CertificateException.class);
        assertThat(check.refusal()).hasValueSatisfying(why -> assertThat(why).startsWith("sslcrl " + crl
                + " revokes the server's certificate (CN=localhost, serial "));

        Files.writeString(crl, "not a list\n");
        assertThatThrownBy(() -> trust.checkServerTrusted(server, "RSA")).isInstanceOf(CertificateException.class);
        assertThat(check.refusal()).hasValueSatisfying(why -> assertThat(why).startsWith("sslcrl " + crl
                + " (expected: a readable certificate revocation list, PEM or DER;").endsWith(", read again as it changed"));
    }

    @Test
    void aFileThatHoldsNoRevocationListIsNamed() throws Exception {
        Path notACrl = cluster.clientCertificate();
        assertThat(refused(url(withClientKey(cluster.clientKey()) + "&sslcrl=" + notACrl)).getMessage())
                .startsWith("shieldpool.jobs.postgresql.url: sslcrl " + notACrl + " (expected: a readable certificate"
                        + " revocation list, PEM or DER;");
    }

    @Test
    void anEncryptedClientKeyIsDecryptedWithSslpasswordInEitherOfOpensslsForms() throws Exception {
        for (KeyEncryption form : List.of(KeyEncryption.PKCS8, KeyEncryption.TRADITIONAL)) {
            Path key = cluster.encryptedClientKey(PASSPHRASE, form);
            assertThat(Files.readString(key)).contains(form == KeyEncryption.TRADITIONAL ? "Proc-Type: 4,ENCRYPTED"
                    : "BEGIN ENCRYPTED PRIVATE KEY");
            openAndAsk(url(withClientKey(key) + "&sslpassword=" + PASSPHRASE));
        }
    }

    @Test
    void aPlusInSslpasswordAndInTheKeysPathIsAPlusAsLibpqReadsIt() throws Exception {
        String plus = "Kp4+ssl+pw";
        Path key = cluster.encryptedClientKey(plus, KeyEncryption.TRADITIONAL);
        Path named = Files.move(key, key.resolveSibling("client+" + key.getFileName()));
        openAndAsk(url(withClientKey(named) + "&sslpassword=" + plus));
    }

    @Test
    void aWrongSslpasswordIsOneLineNamingTheKeyAndNeverShowsThePassphrase() throws Exception {
        for (KeyEncryption form : List.of(KeyEncryption.PKCS8, KeyEncryption.TRADITIONAL)) {
            Path key = cluster.encryptedClientKey(PASSPHRASE, form);
            String wrong = "not-" + PASSPHRASE;
            JobStoreException e = refused(url(withClientKey(key) + "&sslpassword=" + wrong));
            assertThat(e.getMessage()).as(form.name()).isEqualTo("shieldpool.jobs.postgresql.url:"
                    + " sslkey " + key + " cannot be decrypted with the URL's sslpassword (wrong sslpassword?)");
            assertThat(e.getMessage()).doesNotContain(wrong).doesNotContain(PASSPHRASE);
            assertThat(e.getCause()).isNull();
        }
    }

    @Test
    void aDamagedDekInfoIvIsOneLineNamingTheKey() throws Exception {
        Path key = cluster.encryptedClientKey(PASSPHRASE, KeyEncryption.TRADITIONAL);
        String pem = Files.readString(key);
        java.util.regex.Matcher dek = java.util.regex.Pattern.compile("DEK-Info: AES-256-CBC,([0-9A-F]{32})\n").matcher(pem);
        assertThat(dek.find()).as(pem).isTrue();
        String iv = dek.group(1);
        // an odd length, a stray character, 8 bytes where AES takes 16, none at all
        for (String damaged : List.of(iv.substring(1), "Z" + iv.substring(1), iv.substring(16), "")) {
            Files.writeString(key, pem.replace(iv, damaged));
            assertThat(refused(url(withClientKey(key) + "&sslpassword=" + PASSPHRASE)).getMessage()).as(damaged)
                    .isEqualTo("shieldpool.jobs.postgresql.url: sslkey " + key + " has a damaged DEK-Info line (expected:"
                            + " AES-256-CBC, then its IV in hex, 16 bytes (32 hex digits), as openssl writes it)");
        }
    }

    @Test
    void anEncryptedClientKeyWithoutSslpasswordIsNamed() throws Exception {
        Path key = cluster.encryptedClientKey(PASSPHRASE, KeyEncryption.PKCS8);
        assertThat(refused(url(withClientKey(key))).getMessage()).isEqualTo("shieldpool.jobs.postgresql.url: sslkey " + key
                + " is encrypted (expected: its passphrase in the URL's sslpassword, or a key without one)");
    }

    @Test
    void aKeyEncryptedInAWayTheJdkDoesNotReadSaysHowToConvertIt() throws Exception {
        Path key = cluster.encryptedClientKey(PASSPHRASE, KeyEncryption.PKCS8_SCRYPT);
        assertThat(refused(url(withClientKey(key) + "&sslpassword=" + PASSPHRASE)).getMessage())
                .startsWith("shieldpool.jobs.postgresql.url: sslkey " + key + " is encrypted in a way this JVM does not read (")
                .contains("`openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + key + " -out NEW.key`").doesNotContain(PASSPHRASE);
    }

    @Test
    void theUrlAsLogsShowItMasksSslpassword() {
        assertThat(PostgresSettings.of(url("sslpassword=" + PASSPHRASE + "&application_name=x")).safeUrl())
                .endsWith("&sslpassword=***&application_name=x").doesNotContain(PASSPHRASE);
    }
}
