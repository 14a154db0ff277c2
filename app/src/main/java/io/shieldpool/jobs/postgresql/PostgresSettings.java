package io.shieldpool.jobs.postgresql;

import io.shieldpool.config.PostgresUrl;
import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import javax.net.ssl.TrustManagerFactory;

/**
 * How the PostgreSQL store connects and how long its leases are.
 *
 * @param url               libpq-style URI ({@code postgresql://user@host:port/db}, or a unix socket:
 *                          {@code postgresql://user@/db?host=/run/postgresql}); a password in it is allowed but
 *                          never logged, a password file is the better place
 * @param passwordFile      a file whose first line is the password, if any
 * @param poolSize          connections this store opens at most
 * @param heartbeatInterval how often this node heartbeats (and looks for dead nodes' jobs to rescue)
 * @param nodeTtl           a node whose last heartbeat is older than this is dead and its jobs are rescued
 * @param jobLease          a running attempt older than this is rescued even if its node is alive (a hung section)
 * @param limits            cluster-wide limits of the queue this node claims from, if any
 * @param statementCache    each connection keeps the statements prepared (jobs.postgresql.statement-cache)
 * @param behindPgbouncer   the URL names PgBouncer in transaction mode, not the server (jobs.postgresql.behind-pgbouncer)
 */
public record PostgresSettings(String url, Optional<Path> passwordFile, int poolSize, Duration heartbeatInterval,
                               Duration nodeTtl, Duration jobLease, Optional<QueueLimits> limits, boolean statementCache,
                               boolean behindPgbouncer) {

    /**
     * Limits that hold across all nodes for one queue.
     *
     * @param queue       the queue
     * @param concurrency most of its jobs running at once across the cluster; 0: no limit
     * @param rate        most claims per second across the cluster (a token bucket); 0: no limit
     * @param burst       the bucket's size: claims allowed at once after a quiet spell (>= 1 when rate > 0)
     */
    public record QueueLimits(String queue, int concurrency, double rate, double burst) {
        public QueueLimits {
            Objects.requireNonNull(queue);
            if (concurrency < 0 || rate < 0 || burst < 0) {
                throw new IllegalArgumentException("limits " + concurrency + " " + rate + " " + burst);
            }
            if (rate > 0) {
                burst = Math.max(1, burst);
            }
        }

        public boolean any() {
            return concurrency > 0 || rate > 0;
        }
    }

    public PostgresSettings {
        Objects.requireNonNull(url);
        Objects.requireNonNull(passwordFile);
        Objects.requireNonNull(limits);
        if (poolSize < 1 || heartbeatInterval.isNegative() || heartbeatInterval.isZero()
                || nodeTtl.compareTo(heartbeatInterval) <= 0 || jobLease.isNegative() || jobLease.isZero()) {
            throw new IllegalArgumentException("postgresql pool " + poolSize + ", heartbeat " + heartbeatInterval
                    + ", ttl " + nodeTtl + ", lease " + jobLease);
        }
    }

    /** Defaults: a 4-connection pool, a heartbeat every 2 s, dead after 10 s, a 15 min lease per attempt, no statement cache. */
    public static PostgresSettings of(String url) {
        return new PostgresSettings(url, Optional.empty(), 4, Duration.ofSeconds(2), Duration.ofSeconds(10),
                Duration.ofMinutes(15), Optional.empty(), false, false);
    }

    /** The settings the config names (the limits are those of the daemon's queue, jobs.queue). */
    public static PostgresSettings of(io.shieldpool.config.ShieldpoolConfig.Jobs jobs) {
        var config = jobs.postgresql();
        return new PostgresSettings(config.url(), config.passwordFile(), config.poolSize(), config.heartbeatInterval(),
                config.nodeTtl(), config.jobLease(), Optional.empty(), config.statementCache(), config.behindPgbouncer())
                .withLimits(jobs.queue(), config.limitConcurrency(), config.limitRate(), config.limitBurst());
    }

    /** Through PgBouncer in transaction mode, or to the server itself (see {@link #behindPgbouncer}). */
    public PostgresSettings behindPgbouncer(boolean pgbouncer) {
        return new PostgresSettings(url, passwordFile, poolSize, heartbeatInterval, nodeTtl, jobLease, limits, statementCache,
                pgbouncer);
    }

    /** With or without the statement cache (see {@link #statementCache}). */
    public PostgresSettings withStatementCache(boolean cache) {
        return new PostgresSettings(url, passwordFile, poolSize, heartbeatInterval, nodeTtl, jobLease, limits, cache, behindPgbouncer);
    }

    public PostgresSettings withPasswordFile(Path file) {
        return new PostgresSettings(url, Optional.of(file), poolSize, heartbeatInterval, nodeTtl, jobLease, limits, statementCache, behindPgbouncer);
    }

    public PostgresSettings withLeases(Duration heartbeat, Duration ttl, Duration lease) {
        return new PostgresSettings(url, passwordFile, poolSize, heartbeat, ttl, lease, limits, statementCache, behindPgbouncer);
    }

    public PostgresSettings withPoolSize(int size) {
        return new PostgresSettings(url, passwordFile, size, heartbeatInterval, nodeTtl, jobLease, limits, statementCache, behindPgbouncer);
    }

    /** With cluster-wide limits for {@code queue} (none when both are 0). */
    public PostgresSettings withLimits(String queue, int concurrency, double rate, double burst) {
        QueueLimits l = new QueueLimits(queue, concurrency, rate, burst);
        return new PostgresSettings(url, passwordFile, poolSize, heartbeatInterval, nodeTtl, jobLease,
                l.any() ? Optional.of(l) : Optional.empty(), statementCache, behindPgbouncer);
    }

    /**
     * The TLS the URL's sslmode asks for, as libpq does it: allow, prefer and require encrypt
     * without checking the server's certificate unless sslrootcert names the CAs to check it
     * against; verify-ca checks it; verify-full checks it and that it names the host; sslcrl
     * (with {@code check}) refuses a certificate its revocation lists revoke. why here:
     * the client reads sslmode but needs the certificate checks set up by its user; without them
     * it failed every connection with a NullPointerException's text (sslmode=require) and ignored
     * sslrootcert.
     */
    private void tls(PgConnectOptions options, Optional<ServerCertificateCheck> check) {
        SslMode mode = options.getSslMode();
        if (mode == SslMode.DISABLE || options.isUsingDomainSocket()) {
            return;
        }
        var ssl = new ClientSSLOptions();
        Optional<String> roots = PostgresUrl.sslRootCert(url);
        boolean system = roots.isPresent() && roots.get().equals(PostgresUrl.SYSTEM_ROOTS);
        if (roots.isPresent() && check.isPresent()) {
            ssl.setTrustOptions(check.get().trusting(system ? List.of(systemRoots().getAcceptedIssuers())
                    : rootCertificates(roots.get())));
        } else if (roots.isPresent()) {
            ssl.setTrustOptions(system ? TrustOptions.wrap(systemRoots()) : new PemTrustOptions().addCertPath(roots.get()));
        } else if (mode == SslMode.VERIFY_CA || mode == SslMode.VERIFY_FULL || check.isPresent()) {
            // the validator names this at the config's line; here for a URL not validated (PostgresSettings.of(url))
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: " + safeUrl()
                    + " (expected: sslmode=" + mode.value + (check.isPresent() ? " and sslcrl" : "")
                    + " with sslrootcert=/path/to/ca.pem or sslrootcert=system)");
        } else {
            ssl.setTrustAll(true);
        }
        Optional<String> cert = PostgresUrl.sslCert(url);
        Optional<String> key = PostgresUrl.sslKey(url);
        if (cert.isPresent() && key.isPresent()) {
            // a client certificate, for a server whose pg_hba.conf says cert (or clientcert=verify-*)
            var keyCert = new PemKeyCertOptions().setCertPath(cert.get());
            ClientKey.decrypted(key.get(), PostgresUrl.sslPassword(url))
                    .ifPresentOrElse(keyCert::setKeyValue, () -> keyCert.setKeyPath(key.get()));
            ssl.setKeyCertOptions(keyCert);
        }
        // "" checks no host name (the client's own default when it is unset); HTTPS: the certificate must name the host
        ssl.setHostnameVerificationAlgorithm(mode == SslMode.VERIFY_FULL ? "HTTPS" : "");
        options.setSslOptions(ssl);
    }

    /** The certificate check the URL's sslcrl asks for, if it names one (see {@link #connectOptions(Optional)}). */
    Optional<ServerCertificateCheck> certificateCheck() {
        return PostgresUrl.sslCrl(url).map(ServerCertificateCheck::new);
    }

    /** The CA certificates of an sslrootcert file. */
    private List<java.security.cert.X509Certificate> rootCertificates(String file) {
        try (var in = Files.newInputStream(Path.of(file))) {
            return java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(java.security.cert.X509Certificate.class::cast).toList();
        } catch (IOException | GeneralSecurityException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslrootcert " + file
                    + " (expected: a readable PEM file of CA certificates; " + e.getClass().getSimpleName() + ")");
        }
    }

    /** The JDK's default trusted CAs (its cacerts). */
    private static javax.net.ssl.X509TrustManager systemRoots() {
        try {
            var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            return java.util.Arrays.stream(factory.getTrustManagers()).filter(javax.net.ssl.X509TrustManager.class::isInstance)
                    .map(javax.net.ssl.X509TrustManager.class::cast).findFirst()
                    .orElseThrow(() -> new java.security.KeyStoreException("no X.509 trust manager"));
        } catch (GeneralSecurityException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslrootcert=system"
                    + " (the JDK's trusted CAs could not be read: " + e.getMessage() + ")");
        }
    }

    /**
     * The URL's connect_timeout ({@link PostgresUrl#connectTimeout}); zero is no limit.
     *
     * @throws JobStoreException UNUSABLE naming it when it is not whole seconds (the validator names it at its line)
     */
    Optional<Duration> connectTimeout() {
        try {
            return PostgresUrl.connectTimeout(url);
        } catch (NumberFormatException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: " + safeUrl()
                    + " (expected: connect_timeout in whole seconds, e.g. connect_timeout=10)");
        }
    }

    /** The URL with any password in it replaced: what logs and error messages show. */
    public String safeUrl() {
        return io.shieldpool.config.EffectiveConfig.withoutPassword(url);
    }

    /**
     * The client's options: the URL parsed, the password file read, and the session settings
     * every connection of this store gets (application_name; idle_in_transaction_session_timeout,
     * so a connection of ours left in a transaction can never hold back vacuum for long).
     *
     * @throws JobStoreException UNUSABLE naming the key when the URL or the password file is wrong
     */
    PgConnectOptions connectOptions() {
        return connectOptions(certificateCheck());
    }

    /**
     * {@link #connectOptions()} with {@code check} ({@link #certificateCheck}) checking the server's
     * certificate: the store keeps it to say why a handshake was refused.
     */
    PgConnectOptions connectOptions(Optional<ServerCertificateCheck> check) {
        PgConnectOptions options;
        try {
            options = PgConnectOptions.fromUri(url);
        } catch (RuntimeException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: " + safeUrl()
                    + " (expected: a libpq URI such as postgresql://user@host:5432/db or postgresql://user@/db?host=/run/postgresql;"
                    + " a / ? # @ or : in the user or password percent-encoded, or the password in jobs.postgresql.password-file)");
        }
        if (passwordFile.isPresent()) {
            Path file = passwordFile.get();
            try {
                String text = Files.readString(file);
                int end = text.indexOf('\n');
                String password = (end >= 0 ? text.substring(0, end) : text).strip();
                if (password.isEmpty()) {
                    // why: the client's own words ("The value for 'password' must not be empty") named neither key nor file.
                    throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.password-file: "
                            + file + " (expected: a file whose first line is the password; its first line is empty)");
                }
                options.setPassword(password);
            } catch (IOException e) {
                throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.password-file: "
                        + file + " (expected: a readable file whose first line is the password; " + e.getClass().getSimpleName() + ")");
            }
        }
        tls(options, check);
        Map<String, String> properties = new java.util.HashMap<>(options.getProperties());
        if (!PostgresUrl.parameters(url).containsKey("application_name")) {
            // why not putIfAbsent: the client's defaults hold application_name = vertx-pg-client, so
            // pg_stat_activity showed that, not shieldpool, for every session of ours
            properties.put("application_name", "shieldpool");
        }
        if (behindPgbouncer) {
            // why: PgBouncer refuses a connection whose startup packet carries a parameter it does not
            // track ("unsupported startup parameter: extra_float_digits", 08P01) unless its
            // ignore_startup_parameters lists it, and then drops it; the timeout goes on the role instead
            // (ALTER ROLE ... SET idle_in_transaction_session_timeout). extra_float_digits: the server's
            // default (1, shortest exact output since PostgreSQL 12) is what the client needs.
            properties.remove("extra_float_digits");
        } else {
            properties.putIfAbsent("idle_in_transaction_session_timeout", "30000");
            // why: the client logs every server NOTICE at WARN ("relation ... already exists, skipping").
            properties.putIfAbsent("client_min_messages", "warning");
        }
        options.setProperties(properties);
        // why: in transaction mode PgBouncer may give each Sync's worth of a statement to another server
        // connection; the client's usual parse (then Sync) and bind failed on the second with "unnamed
        // prepared statement does not exist" (26000). Layer 7 mode sends them under one Sync.
        options.setUseLayer7Proxy(behindPgbouncer);
        options.setReconnectAttempts(0);
        // why optional, off by default: without it each statement is prepared again at every
        // execution (parsed and planned by the server each time); with it, named prepared
        // statements, which PgBouncer in transaction mode serves only from 1.21 with
        // max_prepared_statements set.
        options.setCachePreparedStatements(statementCache);
        return options;
    }
}
