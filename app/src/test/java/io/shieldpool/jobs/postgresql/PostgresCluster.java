package io.shieldpool.jobs.postgresql;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL 15 cluster for one test class: {@code initdb --no-sync -A trust} into a
 * fresh temp directory, the server listening only on a unix socket in that directory (no TCP
 * port, so parallel builds never collide), small (shared_buffers 16 MB, 40 connections), fsync
 * left on. Started as an unprivileged user ({@code nobody}) when the test runs as root, because
 * the server refuses to run as root. Tests may {@link #stop}, {@link #start}, {@link #restart}
 * ({@code pg_ctl restart -m fast}) and {@link #kill} it; {@link #close} stops it and deletes the
 * directory. Where the binaries are missing the test is skipped with one line saying so.
 */
public final class PostgresCluster implements AutoCloseable {

    static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final AtomicInteger databases = new AtomicInteger();

    private final Path dir;
    private final Path data;
    private final boolean asNobody;
    /** A TLS cluster's key and certificate directory ({@link #startWithTls}); null otherwise. */
    private Path tlsKeys;
    /** The server's port (its unix socket's name too). */
    private int port = 5432;

    private PostgresCluster(Path dir, boolean asNobody) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.asNobody = asNobody;
    }

    /** A new cluster, initialised and started; skips the calling test where PostgreSQL 15 is not installed. */
    public static PostgresCluster start() throws IOException, InterruptedException {
        return start(List.of());
    }

    /**
     * A cluster that also listens on 127.0.0.1:{@code port} with TLS on, its certificate a
     * self-signed one (openssl) for {@code subjectAltName} (e.g. "DNS:localhost"), written to
     * {@link #certificate()}: the CA file a client trusts it by.
     */
    public static PostgresCluster startWithTls(int port, String subjectAltName) throws IOException, InterruptedException {
        Path keys = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-pg-tls-");
        Path key = keys.resolve("server.key");
        Path cert = keys.resolve("server.crt");
        openssl("req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=shieldpool-test",
                "-addext", "subjectAltName=" + subjectAltName, "-keyout", key.toString(), "-out", cert.toString());
        return start(List.of("listen_addresses = '127.0.0.1'", "port = " + port, "ssl = on",
                "ssl_cert_file = '" + cert + "'", "ssl_key_file = '" + key + "'"), keys, List.of());
    }

    /**
     * A cluster on a free 127.0.0.1 port that admits TCP clients only by a client certificate; see
     * {@link #startWithClientCertificates(int)}.
     */
    public static PostgresCluster startWithClientCertificates() throws IOException, InterruptedException {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        return startWithClientCertificates(port);
    }

    /**
     * A cluster on 127.0.0.1:{@code port} that admits TCP clients only by a client certificate
     * (pg_hba.conf: hostssl ... cert) signed by its own CA, {@link #certificate()}; the server's
     * certificate, signed by the same CA, names localhost. {@link #clientCertificate()} and
     * {@link #clientKey()} are a certificate for the user postgres and its key.
     */
    public static PostgresCluster startWithClientCertificates(int port) throws IOException, InterruptedException {
        Path keys = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-pg-tls-");
        String ca = keys.resolve("server.crt").toString();
        String caKey = keys.resolve("ca.key").toString();
        openssl("req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=shieldpool-test-ca", "-keyout", caKey, "-out", ca);
        for (String[] who : new String[][] {{"host", "/CN=localhost", "subjectAltName=DNS:localhost"}, {"client", "/CN=postgres", ""}}) {
            String key = keys.resolve(who[0] + ".key").toString();
            String csr = keys.resolve(who[0] + ".csr").toString();
            openssl("req", "-new", "-nodes", "-subj", who[1], "-keyout", key, "-out", csr);
            Path ext = Files.writeString(keys.resolve(who[0] + ".ext"), who[2].isEmpty() ? "" : who[2] + "\n");
            openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2",
                    "-extfile", ext.toString(), "-out", keys.resolve(who[0] + ".crt").toString());
        }
        return start(List.of("listen_addresses = '127.0.0.1'", "port = " + port, "ssl = on", "ssl_ca_file = '" + ca + "'",
                "ssl_cert_file = '" + keys.resolve("host.crt") + "'", "ssl_key_file = '" + keys.resolve("host.key") + "'"),
                keys, List.of("hostssl all all 127.0.0.1/32 cert", "host all all 127.0.0.1/32 reject"));
    }

    /** A client certificate for the user postgres ({@link #startWithClientCertificates}). */
    public Path clientCertificate() {
        return tlsKeys.resolve("client.crt");
    }

    /** The server's own certificate, signed by {@link #certificate()} ({@link #startWithClientCertificates}). */
    public Path hostCertificate() {
        return tlsKeys.resolve("host.crt");
    }

    /** {@link #clientCertificate()}'s key. */
    public Path clientKey() {
        return tlsKeys.resolve("client.key");
    }

    /** How {@link #encryptedClientKey} encrypts: the forms openssl writes. */
    public enum KeyEncryption {
        /** {@code BEGIN ENCRYPTED PRIVATE KEY}: openssl pkcs8 -topk8 -v2 aes-256-cbc (PBES2, PBKDF2). */
        PKCS8,
        /** {@code BEGIN RSA PRIVATE KEY} with {@code Proc-Type: 4,ENCRYPTED}: openssl pkey -traditional -aes256. */
        TRADITIONAL,
        /** PKCS#8 with scrypt for PBKDF2 (openssl pkcs8 -topk8 -scrypt), which the JDK does not read. */
        PKCS8_SCRYPT
    }

    /** {@link #clientKey()} encrypted with {@code passphrase} (the client's sslpassword), in a new file. */
    public Path encryptedClientKey(String passphrase, KeyEncryption form) throws IOException, InterruptedException {
        Path key = Files.createTempFile(tlsKeys, "client-" + form.name().toLowerCase(java.util.Locale.ROOT) + "-", ".key");
        String in = clientKey().toString();
        String out = "pass:" + passphrase;
        switch (form) {
            case PKCS8 -> openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", in, "-passout", out, "-out", key.toString());
            case TRADITIONAL -> openssl("pkey", "-in", in, "-traditional", "-aes256", "-passout", out, "-out", key.toString());
            case PKCS8_SCRYPT -> openssl("pkcs8", "-topk8", "-scrypt", "-in", in, "-passout", out, "-out", key.toString());
        }
        return key;
    }

    /**
     * A certificate revocation list signed by the CA of a {@link #startWithClientCertificates}
     * cluster (openssl ca -gencrl), valid for two days: revoking the server's certificate, or
     * revoking none; PEM, or {@code der}.
     */
    public Path revocationList(boolean revokingTheServer, boolean der) throws IOException, InterruptedException {
        Path ca = Files.createTempDirectory(tlsKeys, "crl-");
        Files.writeString(ca.resolve("index.txt"), "");
        Files.writeString(ca.resolve("crlnumber"), "01\n");
        Path config = Files.writeString(ca.resolve("ca.cnf"), String.join("\n", "[ca]", "default_ca = test", "[test]",
                "database = " + ca.resolve("index.txt"), "crlnumber = " + ca.resolve("crlnumber"), "default_md = sha256",
                "default_crl_days = 2", ""));
        List<String> signer = List.of("-config", config.toString(), "-keyfile", tlsKeys.resolve("ca.key").toString(),
                "-cert", certificate().toString());
        if (revokingTheServer) {
            List<String> revoke = new ArrayList<>(List.of("ca", "-revoke", tlsKeys.resolve("host.crt").toString()));
            revoke.addAll(signer);
            openssl(revoke.toArray(String[]::new));
        }
        Path pem = ca.resolve("crl.pem");
        List<String> crl = new ArrayList<>(List.of("ca", "-gencrl", "-out", pem.toString()));
        crl.addAll(signer);
        openssl(crl.toArray(String[]::new));
        if (!der) {
            return pem;
        }
        Path derFile = ca.resolve("crl.der");
        openssl("crl", "-in", pem.toString(), "-outform", "DER", "-out", derFile.toString());
        return derFile;
    }

    /** A revocation list (PEM, revoking nothing) signed by a CA of its own, not by this cluster's. */
    public Path revocationListOfAnotherCa() throws IOException, InterruptedException {
        Path ca = Files.createTempDirectory(tlsKeys, "other-ca-");
        String caCert = ca.resolve("ca.crt").toString();
        String caKey = ca.resolve("ca.key").toString();
        openssl("req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=shieldpool-test-other-ca", "-keyout", caKey,
                "-out", caCert);
        Files.writeString(ca.resolve("index.txt"), "");
        Path config = Files.writeString(ca.resolve("ca.cnf"), String.join("\n", "[ca]", "default_ca = test", "[test]",
                "database = " + ca.resolve("index.txt"), "default_md = sha256", "default_crl_days = 2", ""));
        Path pem = ca.resolve("crl.pem");
        openssl("ca", "-gencrl", "-config", config.toString(), "-keyfile", caKey, "-cert", caCert, "-out", pem.toString());
        return pem;
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process openssl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (openssl.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }

    /** The server's TCP port (TLS clusters) and its socket's number. */
    public int port() {
        return port;
    }

    /** A cluster that also listens on 127.0.0.1:{@code port}, without TLS. */
    public static PostgresCluster startOnTcp(int port) throws IOException, InterruptedException {
        return start(List.of("listen_addresses = '127.0.0.1'", "port = " + port));
    }

    /** The server's certificate, for a TLS cluster ({@link #startWithTls}). */
    public Path certificate() {
        return tlsKeys.resolve("server.crt");
    }

    private static PostgresCluster start(List<String> settings) throws IOException, InterruptedException {
        return start(settings, null, List.of());
    }

    /** {@code hba}: lines put first in pg_hba.conf (the first matching line decides). */
    private static PostgresCluster start(List<String> settings, Path tlsKeys, List<String> hba) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(BIN.resolve("postgres")),
                "PostgreSQL 15 is not installed (" + BIN + "/postgres missing; .ci/run installs the postgresql package): skipped");
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-pg-");
        PostgresCluster cluster = new PostgresCluster(dir, root);
        cluster.tlsKeys = tlsKeys;
        cluster.port = settings.stream().filter(l -> l.startsWith("port = ")).map(l -> Integer.parseInt(l.substring(7)))
                .findFirst().orElse(5432);
        if (root) {
            cluster.run(List.of("chown", "nobody", dir.toString()), false);
            if (tlsKeys != null) {
                cluster.run(List.of("chown", "-R", "nobody", tlsKeys.toString()), false);
            }
        }
        if (tlsKeys != null) {
            // the server refuses a key file others may read
            try (Stream<Path> keyFiles = Files.list(tlsKeys)) {
                for (Path keyFile : keyFiles.filter(f -> f.toString().endsWith(".key")).toList()) {
                    cluster.run(List.of("chmod", "0600", keyFile.toString()), false);
                }
            }
        }
        cluster.run(List.of(BIN.resolve("initdb").toString(), "--no-sync", "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--locale=C", "-D", cluster.data.toString()), true);
        Files.writeString(cluster.data.resolve("postgresql.auto.conf"), String.join("\n",
                "listen_addresses = ''",
                "unix_socket_directories = '" + dir + "'",
                "shared_buffers = 16MB",
                "max_connections = 40",
                "max_wal_size = 256MB",
                "log_min_messages = warning",
                "logging_collector = off",
                "") + String.join("\n", settings) + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        if (!hba.isEmpty()) {
            Path file = cluster.data.resolve("pg_hba.conf");
            Files.writeString(file, String.join("\n", hba) + "\n" + Files.readString(file));
        }
        cluster.start0();
        return cluster;
    }

    /** The socket directory: libpq's host for this cluster. */
    public Path socketDirectory() {
        return dir;
    }

    /** A libpq-style URI of database {@code database} as user postgres over the unix socket. */
    public String uri(String database) {
        return "postgresql://postgres@/" + database + "?host=" + dir + (port == 5432 ? "" : "&port=" + port);
    }

    /** A new, empty database; returns its name. */
    public String createDatabase() throws IOException, InterruptedException {
        String name = "t" + databases.incrementAndGet();
        psql("postgres", "CREATE DATABASE " + name);
        return name;
    }

    /**
     * Jobs matching {@code where} (on columns state and owner) in either table: an acked job's row
     * lives in shieldpool_jobs_done (schema 3).
     */
    public long countJobs(String database, String where) throws IOException, InterruptedException {
        return Long.parseLong(psql(database, "SELECT count(*) FROM (SELECT state, owner FROM shieldpool_jobs"
                + " UNION ALL SELECT 'done', NULL FROM shieldpool_jobs_done) AS jobs WHERE " + where));
    }

    /** Runs SQL with psql over the socket and returns its unaligned, tuples-only output. */
    public String psql(String database, String sql) throws IOException, InterruptedException {
        return run(List.of(BIN.resolve("psql").toString(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", dir.toString(),
                "-p", Integer.toString(port), "-U", "postgres", "-d", database, "-c", sql), false);
    }

    void start0() throws IOException, InterruptedException {
        run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
                "-w", "-t", "30", "start"), true);
    }

    /** Starts a stopped cluster. */
    public void startAgain() throws IOException, InterruptedException {
        start0();
    }

    /** Stops the server (fast: sessions are cut, as in an operator's restart). */
    public void stop() throws IOException, InterruptedException {
        run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t", "30", "stop"), true);
    }

    /** {@code pg_ctl restart -m fast}. */
    public void restart() throws IOException, InterruptedException {
        run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
                "-m", "fast", "-w", "-t", "30", "restart"), true);
    }

    /** SIGKILLs the postmaster (its children exit on their own): a crash; {@link #startAgain} recovers. */
    public void kill() throws IOException {
        long pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).getFirst().strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** The server's log so far (for a failing test's message). */
    public String serverLog() {
        try {
            return Files.readString(dir.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                run(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"), true);
            }
        } catch (IOException | InterruptedException | IllegalStateException e) {
            // best effort: a cluster a test killed may already be gone
        }
        for (Path tree : tlsKeys == null ? List.of(dir) : List.of(dir, tlsKeys)) {
            try (Stream<Path> files = Files.walk(tree)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp directory
            }
        }
    }

    private String run(List<String> command, boolean asServerUser) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (asServerUser && asNobody) {
            full.addAll(List.of("runuser", "-u", "nobody", "--"));
        }
        full.addAll(command);
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", full) + ": no exit within 60 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", full) + ": exit " + process.exitValue() + ": " + text
                    + (Files.exists(dir.resolve("server.log")) ? "\nserver log:\n" + serverLog() : ""));
        }
        return text.strip();
    }
}
