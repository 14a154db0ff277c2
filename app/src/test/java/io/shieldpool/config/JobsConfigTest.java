package io.shieldpool.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** shieldpool.jobs.*: defaults, validation in the project's message format, and what a reload may change. */
class JobsConfigTest {

    @TempDir
    Path dir;

    private ConfigText text;

    @BeforeEach
    void file() {
        text = new ConfigText(dir.resolve("jobs.conf"));
    }

    @Test
    void withoutAJobsBlockThereIsNoStoreAndTheDefaultsAreDocumented() throws Exception {
        ShieldpoolConfig.Jobs jobs = text.load("").jobs();
        assertThat(jobs.enabled()).isFalse();
        assertThat(jobs.queue()).isEqualTo("default");
        assertThat(jobs.maxAttempts()).isEqualTo(25);
        assertThat(jobs.retryBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(jobs.retryMaxBackoff()).isEqualTo(Duration.ofHours(1));
        assertThat(jobs.pollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(jobs.sqliteFullSync()).isTrue();
        assertThat(jobs.sqlitePath().getFileName().toString()).isEqualTo("jobs.db");
        assertThat(jobs.claimBatch()).isEqualTo(ShieldpoolConfig.ClaimBatch.AUTO);
    }

    @Test
    void claimBatchIsAutoInAnyCaseOrAWholeNumberAndAnythingElseIsOneLineNamingBoth() throws Exception {
        assertThat(text.load("shieldpool.jobs.claim-batch = AUTO").jobs().claimBatch().auto()).isTrue();
        assertThat(text.load("shieldpool.jobs.claim-batch = 256").jobs().claimBatch()).isEqualTo(ShieldpoolConfig.ClaimBatch.of(256));
        assertThat(text.load("shieldpool.jobs.claim-batch = \"64\"").jobs().claimBatch().fixed()).isEqualTo(64);
        String file = dir.resolve("jobs.conf").toString();
        for (String bad : List.of("automatic", "2.5", "-1", "[8]")) {
            assertThat(text.problems("shieldpool.jobs.claim-batch = " + bad)).as(bad).containsExactly(
                    "shieldpool.jobs.claim-batch: " + bad + " (expected: auto, or an integer >= 1) at " + file + ":1");
        }
    }

    @Test
    void aSqliteStoreInAnExistingDirectoryIsAccepted() throws Exception {
        ShieldpoolConfig.Jobs jobs = text.load("""
                shieldpool.jobs { store = sqlite, sqlite.path = "%s/q.db", sqlite.synchronous = normal, queue = imports }
                """.formatted(dir)).jobs();
        assertThat(jobs.enabled()).isTrue();
        assertThat(jobs.sqlitePath()).isEqualTo(dir.resolve("q.db"));
        assertThat(jobs.sqliteFullSync()).isFalse();
        assertThat(jobs.queue()).isEqualTo("imports");
    }

    @Test
    void everyBadKeyIsReportedWithItsValueWhatWasExpectedAndWhere() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        List<String> problems = text.problems("""
                shieldpool.jobs.store = postgres
                shieldpool.jobs.max-attempts = 0
                shieldpool.jobs.retry.backoff = 10s
                shieldpool.jobs.retry.max-backoff = 1s
                shieldpool.jobs.retry.jitter = 1.5
                shieldpool.jobs.poll-interval = 0
                shieldpool.jobs.sqlite.synchronous = off
                shieldpool.jobs.claim-batch = 0
                """);
        assertThat(problems).containsExactlyInAnyOrder(
                "shieldpool.jobs.store: postgres (expected: one of none, postgresql, sqlite) at " + file + ":1",
                "shieldpool.jobs.max-attempts: 0 (expected: an integer >= 1) at " + file + ":2",
                "shieldpool.jobs.retry.max-backoff: 1s (expected: a duration >= jobs.retry.backoff (10s)) at " + file + ":4",
                "shieldpool.jobs.retry.jitter: 1.5 (expected: a number from 0.0 to 1.0) at " + file + ":5",
                "shieldpool.jobs.poll-interval: 0 (expected: a duration such as 250ms, 30s or 2m, at least 1ms, at most 365d) at " + file + ":6",
                "shieldpool.jobs.sqlite.synchronous: off (expected: one of full, normal) at " + file + ":7",
                "shieldpool.jobs.claim-batch: 0 (expected: auto, or an integer >= 1) at " + file + ":8");
    }

    @Test
    void thePostgresqlKeysAreReadAndCheckedWithoutEverEchoingTheUrl() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        ShieldpoolConfig.Jobs jobs = text.load("""
                shieldpool.jobs { store = postgresql, postgresql.url = "postgresql://app@db.example/jobs", queue = q,
                                  limits { concurrency = 12, rate = 50, burst = 10 }, postgresql.node-ttl = 6s }
                """).jobs();
        assertThat(jobs.store()).isEqualTo(ShieldpoolConfig.JobStoreType.POSTGRESQL);
        assertThat(jobs.postgresql().url()).isEqualTo("postgresql://app@db.example/jobs");
        assertThat(jobs.postgresql().nodeTtl()).isEqualTo(java.time.Duration.ofSeconds(6));
        assertThat(jobs.postgresql().limitConcurrency()).isEqualTo(12);
        assertThat(jobs.postgresql().limitRate()).isEqualTo(50.0);
        assertThat(EffectiveConfig.withoutPassword("postgresql://app:s3cret@db.example/jobs?password=x&sslmode=require"))
                .isEqualTo("postgresql://app:***@db.example/jobs?password=***&sslmode=require");
        // the client key's passphrase as the password, in any case
        assertThat(EffectiveConfig.withoutPassword("postgresql://app@db.example/jobs?sslkey=/k.pem&SSLPASSWORD=k%26y&sslmode=require"))
                .isEqualTo("postgresql://app@db.example/jobs?sslkey=/k.pem&SSLPASSWORD=***&sslmode=require");
        // a password typed unencoded: the URI does not parse, and its error line shows the URL
        assertThat(EffectiveConfig.withoutPassword("postgresql://app:Zq9/s?e@c@db.example:5432/jobs?sslmode=require"))
                .isEqualTo("postgresql://app:***@db.example:5432/jobs?sslmode=require");
        assertThat(EffectiveConfig.withoutPassword("postgresql://app:a?b@db.example/jobs")).isEqualTo("postgresql://app:***@db.example/jobs");
        assertThat(EffectiveConfig.withoutPassword("\"postgresql://app:p%2Fw@/jobs?host=/run/postgresql\""))
                .isEqualTo("\"postgresql://app:***@/jobs?host=/run/postgresql\"");
        assertThat(EffectiveConfig.withoutPassword("postgresql://db.example:5432/jobs?user=app")).isEqualTo("postgresql://db.example:5432/jobs?user=app");
        assertThat(EffectiveConfig.withoutPassword("postgresql://app@/jobs?host=/tmp/pg")).isEqualTo("postgresql://app@/jobs?host=/tmp/pg");

        assertThat(text.problems("""
                shieldpool.jobs.store = postgresql
                shieldpool.jobs.postgresql.url = "mysql://root:hunter2@db/x"
                shieldpool.jobs.postgresql.heartbeat-interval = 5s
                shieldpool.jobs.postgresql.node-ttl = 6s
                shieldpool.jobs.limits.rate = -1
                """)).hasSize(3).noneMatch(p -> p.contains("hunter2")).anyMatch(p -> p.startsWith(
                        "shieldpool.jobs.postgresql.node-ttl: 6s (expected: a duration >= 2 x jobs.postgresql.heartbeat-interval (10s)"))
                .anyMatch(p -> p.startsWith("shieldpool.jobs.postgresql.url: ")).anyMatch(p -> p.startsWith("shieldpool.jobs.limits.rate: -1"));
        // a port out of range or not a number is a config mistake at its line (exit 78), not a store that does not answer
        for (String port : new String[] {"99999", "abc"}) {
            assertThat(text.problems("""
                    shieldpool.jobs.store = postgresql
                    shieldpool.jobs.postgresql.url = "postgresql://app:hunter2@db.example:%s/jobs"
                    """.formatted(port))).singleElement().satisfies(p -> assertThat(p)
                    .startsWith("shieldpool.jobs.postgresql.url: postgresql://app:***@db.example:" + port + "/jobs (expected: a libpq URI")
                    .endsWith(" at " + file + ":2").doesNotContain("hunter2"));
        }
        assertThat(text.problems("shieldpool.jobs { store = sqlite, sqlite.path = \"%s/a.db\", limits.concurrency = 4 }".formatted(dir)))
                .containsExactly("shieldpool.jobs.limits.concurrency: 4 (expected: 0 (cluster-wide limits need jobs.store ="
                        + " postgresql; one daemon's pool.size already bounds its sections)) at " + file + ":1");
    }

    @Test
    void aUrlParameterTheClientWouldIgnoreIsAMistakeAtItsLine() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        // libpq's own parameters the client does not read (target_session_attrs) would look set and do nothing
        for (String parameter : List.of("bogus=1", "target_session_attrs=any", "keepalives=1")) {
            assertThat(text.problems("""
                    shieldpool.jobs.store = postgresql
                    shieldpool.jobs.postgresql.url = "postgresql://app:hunter2@/jobs?host=/run/postgresql&%s"
                    """.formatted(parameter))).as(parameter).singleElement().satisfies(p -> assertThat(p)
                    .startsWith("shieldpool.jobs.postgresql.url: postgresql://app:***@/jobs?host=/run/postgresql&" + parameter
                            + " (expected: a libpq URI whose query parameters are among host, hostaddr, port,")
                    .contains("(" + parameter.substring(0, parameter.indexOf('=')) + " is not one the client uses)")
                    .endsWith(" at " + file + ":2").doesNotContain("hunter2"));
        }
        // connect_timeout is read (whole seconds, as libpq); "5s" is not whole seconds
        assertThat(text.load("""
                shieldpool.jobs.store = postgresql
                shieldpool.jobs.postgresql.url = "postgresql://app@/jobs?host=/run/postgresql&connect_timeout=5"
                """).jobs().postgresql().url()).endsWith("connect_timeout=5");
        assertThat(text.problems("""
                shieldpool.jobs.store = postgresql
                shieldpool.jobs.postgresql.url = "postgresql://app@/jobs?host=/run/postgresql&connect_timeout=5s"
                """)).singleElement().asString().contains("connect_timeout is whole seconds").endsWith(" at " + file + ":2");
        // libpq's sslcrldir (a directory of hashed names, openssl rehash) is not read: one file holds any number of lists
        assertThat(text.problems("""
                shieldpool.jobs.store = postgresql
                shieldpool.jobs.postgresql.url = "postgresql://app@db.example/jobs?sslmode=verify-ca&sslrootcert=system&sslcrldir=/etc/crl"
                """)).singleElement().asString().endsWith("(sslcrldir is not supported: put the revocation lists in one PEM"
                        + " file and name it with sslcrl)) at " + file + ":2");
        assertThat(text.load("""
                shieldpool.jobs.store = postgresql
                shieldpool.jobs.postgresql.url = "postgresql://db.example/jobs?USER=app&sslmode=require&application_name=n1&options=-c%20x%3D1"
                """).jobs().postgresql().url()).contains("sslmode=require");
    }

    @Test
    void verifyCaAndVerifyFullNeedTheCertificatesToCheckAgainstAndAnSslrootcertMustBeReadable() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        String pg = "shieldpool.jobs.store = postgresql\nshieldpool.jobs.postgresql.url = ";
        for (String mode : List.of("verify-ca", "verify-full")) {
            assertThat(text.problems(pg + "\"postgresql://app@db.example/jobs?sslmode=" + mode + "\"")).as(mode).singleElement()
                    .asString().startsWith("shieldpool.jobs.postgresql.url: postgresql://app@db.example/jobs?sslmode=" + mode
                            + " (expected: a libpq URI whose sslmode=" + mode + " comes with sslrootcert=/path/to/ca.pem")
                    .endsWith(" at " + file + ":2");
        }
        assertThat(text.problems(pg + "\"postgresql://app@db.example/jobs?sslmode=require&sslrootcert=/nonexistent/ca.pem\""))
                .singleElement().asString().contains("sslrootcert is a readable file (/nonexistent/ca.pem is not)");
        java.nio.file.Path ca = java.nio.file.Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        assertThat(text.load(pg + "\"postgresql://app@db.example/jobs?sslmode=verify-full&sslrootcert=" + ca + "\"")
                .jobs().postgresql().url()).endsWith("sslrootcert=" + ca);
        assertThat(text.load(pg + "\"postgresql://app@db.example/jobs?sslmode=verify-full&sslrootcert=system\"")
                .jobs().postgresql().url()).endsWith("sslrootcert=system");
        // a client certificate: both files, readable, and an sslmode that uses TLS
        assertThat(text.problems(pg + "\"postgresql://app@db.example/jobs?sslmode=require&sslcert=" + ca + "\""))
                .singleElement().asString().contains("with both sslcert and sslkey");
        assertThat(text.problems(pg + "\"postgresql://app@db.example/jobs?sslcert=" + ca + "&sslkey=" + ca + "\""))
                .singleElement().asString().contains("sslcert comes with an sslmode that uses TLS");
        assertThat(text.problems(pg + "\"postgresql://app@db.example/jobs?sslmode=require&sslcert=" + ca + "&sslkey=/nonexistent/k\""))
                .singleElement().asString().contains("sslcert and sslkey are readable files (/nonexistent/k is not)");
        assertThat(text.load(pg + "\"postgresql://app@db.example/jobs?sslmode=require&sslcert=" + ca + "&sslkey=" + ca + "\"")
                .jobs().postgresql().url()).contains("sslkey=");
    }

    @Test
    void sslcrlIsAReadableFileWithACheckedCertificateAndSslpasswordComesWithTheKeyItDecrypts() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        String pg = "shieldpool.jobs.store = postgresql\nshieldpool.jobs.postgresql.url = ";
        java.nio.file.Path pem = java.nio.file.Files.writeString(dir.resolve("some.pem"), "-----BEGIN X509 CRL-----\n");
        String checked = "postgresql://app@db.example/jobs?sslmode=verify-full&sslrootcert=" + pem;
        assertThat(text.load(pg + "\"" + checked + "&sslcrl=" + pem + "\"").jobs().postgresql().url()).endsWith("sslcrl=" + pem);
        assertThat(text.load(pg + "\"" + checked.replace("verify-full", "require") + "&sslcrl=" + pem + "\"").jobs().postgresql().url())
                .endsWith("sslcrl=" + pem);
        assertThat(text.problems(pg + "\"" + checked + "&sslcrl=/nonexistent/crl.pem\"")).singleElement().asString()
                .isEqualTo("shieldpool.jobs.postgresql.url: " + checked + "&sslcrl=/nonexistent/crl.pem (expected: a libpq URI"
                        + " whose sslcrl is a readable file (/nonexistent/crl.pem is not; a certificate revocation list, PEM"
                        + " or DER)) at " + file + ":2");
        // a list never read would look like a check made: require without sslrootcert checks no certificate
        for (String unchecked : List.of("sslmode=require", "sslmode=disable&sslrootcert=" + pem)) {
            assertThat(text.problems(pg + "\"postgresql://app@db.example/jobs?" + unchecked + "&sslcrl=" + pem + "\""))
                    .as(unchecked).singleElement().asString().contains("(expected: a libpq URI whose sslcrl comes with"
                            + " sslrootcert and an sslmode that uses TLS (the revocation list is checked only where the"
                            + " server's certificate is: verify-ca, verify-full, or require with sslrootcert)) at " + file + ":2");
        }

        String withKey = checked + "&sslcert=" + pem + "&sslkey=" + pem;
        assertThat(text.load(pg + "\"" + withKey + "&sslpassword=hunter2\"").jobs().postgresql().url()).endsWith("sslpassword=hunter2");
        assertThat(text.problems(pg + "\"" + checked + "&sslpassword=hunter2\"")).singleElement().asString()
                .isEqualTo("shieldpool.jobs.postgresql.url: " + checked + "&sslpassword=*** (expected: a libpq URI whose"
                        + " sslpassword comes with the sslkey it decrypts (and its sslcert)) at " + file + ":2")
                .doesNotContain("hunter2");
        // any other mistake in the URL's line hides the passphrase too
        assertThat(text.problems(pg + "\"" + withKey + "&sslpassword=hunter2&bogus=1\"")).singleElement().asString()
                .contains("&sslpassword=***&bogus=1 (expected:").doesNotContain("hunter2");
    }

    @Test
    void aBurstWithoutARateAPasswordFileThatIsADirectoryAndALeaseWithinTheTimeoutAreMistakes() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        String pg = "shieldpool.jobs { store = postgresql, postgresql.url = \"postgresql://app@db.example/jobs\" }\n";
        assertThat(text.problems(pg + "shieldpool.jobs.limits.burst = 5")).containsExactly("shieldpool.jobs.limits.burst: 5"
                + " (expected: 0 when jobs.limits.rate is 0 (burst is the size of the rate limit's bucket: set jobs.limits.rate"
                + " too, or remove burst)) at " + file + ":2");
        assertThat(text.load(pg + "shieldpool.jobs.limits { rate = 20, burst = 5 }").jobs().postgresql().limitBurst()).isEqualTo(5.0);
        assertThat(text.load(pg + "shieldpool.jobs.limits.rate = 20").jobs().postgresql().limitRate()).isEqualTo(20.0);

        assertThat(text.problems(pg + "shieldpool.jobs.postgresql.password-file = \"" + dir + "\"")).containsExactly(
                "shieldpool.jobs.postgresql.password-file: " + dir + " (expected: a readable file whose first line is the password,"
                        + " or \"\" for none; it is a directory) at " + file + ":2");
        // a typo in the path says so, rather than leaving "readable" to be guessed at
        Path missing = dir.resolve("pasword");
        assertThat(text.problems(pg + "shieldpool.jobs.postgresql.password-file = \"" + missing + "\"")).containsExactly(
                "shieldpool.jobs.postgresql.password-file: " + missing + " (expected: a readable file whose first line is the"
                        + " password, or \"\" for none; there is no such file) at " + file + ":2");

        // the lease's default (15m) against a longer timeout: placed at the timeout, the key the operator wrote
        assertThat(text.problems(pg + "shieldpool.work.timeout = 20m")).containsExactly("shieldpool.jobs.postgresql.job-lease: 15m"
                + " (expected: a duration longer than work.timeout (20m), or a section still running at its lease's end runs"
                + " twice) at " + file + ":2");
        assertThat(text.problems(pg + "shieldpool.work.timeout = 30s\nshieldpool.jobs.postgresql.job-lease = 30s"))
                .singleElement().asString().startsWith("shieldpool.jobs.postgresql.job-lease: 30s").endsWith(" at " + file + ":3");
        assertThat(text.load(pg + "shieldpool.work.timeout = 14m").jobs().postgresql().jobLease()).isEqualTo(Duration.ofMinutes(15));
    }

    @Test
    void aSqlitePathInAMissingDirectoryIsNamed() throws Exception {
        String file = dir.resolve("jobs.conf").toString();
        assertThat(text.problems("shieldpool.jobs { store = sqlite, sqlite.path = \"/nonexistent/dir/jobs.db\" }"))
                .containsExactly("shieldpool.jobs.sqlite.path: /nonexistent/dir/jobs.db (expected: a file in an existing "
                        + "directory (/nonexistent/dir does not exist)) at " + file + ":1");
    }

    @Test
    void aReloadChangesTheRetryKeysButKeepsTheStoreAndQueue() throws Exception {
        ShieldpoolConfig.Jobs running = text.load("shieldpool.jobs { store = sqlite, sqlite.path = \"%s/a.db\" }".formatted(dir)).jobs();
        ShieldpoolConfig.Jobs fresh = text.load("""
                shieldpool.jobs { store = none, queue = other, max-attempts = 3, retry.backoff = 5s, poll-interval = 2s }
                """).jobs();
        ShieldpoolConfig.Jobs applied = running.withLiveKeysOf(fresh);
        assertThat(applied.enabled()).isTrue();
        assertThat(applied.queue()).isEqualTo("default");
        assertThat(applied.sqlitePath()).isEqualTo(dir.resolve("a.db"));
        assertThat(applied.maxAttempts()).isEqualTo(3);
        assertThat(applied.retryBackoff()).isEqualTo(Duration.ofSeconds(5));
        assertThat(applied.pollInterval()).isEqualTo(Duration.ofSeconds(2));
    }
}
