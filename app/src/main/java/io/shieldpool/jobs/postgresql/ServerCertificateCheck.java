package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.net.TrustOptions;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.cert.CRL;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The server's certificate checked against the URL's sslcrl as libpq (OpenSSL with CRL_CHECK_ALL)
 * does: its chain built to the trusted CAs, and each certificate of it below them looked up in a
 * revocation list of its issuer from the file (PEM or DER, any number of lists), whose signature
 * and next update are checked; a certificate with no such list is refused too, and OCSP is never
 * asked. The file is read again at a handshake after it changed, as libpq reads it at each
 * connection, so a renewed list needs no restart. What it refused is kept for the error line
 * ({@link #refusal}). why kept: the client reports every refused handshake as "SSL handshake
 * failed", without the JDK's reason. why not the client's own SSLOptions.addCrlPath: it only
 * compares serial numbers, trusting a list not signed by the CA and one long out of date, where
 * libpq refuses both, and it reads the file once.
 */
final class ServerCertificateCheck {

    private final String crlFile;
    /**
     * Why the last refused handshake was refused by the revocation lists; null when it was refused
     * for another reason, or a handshake passed since. why not cleared when a check begins: the
     * pool's connections shake hands at once, and one beginning must not wipe what another just
     * found before the error line reads it.
     */
    private volatile String refusal;

    /** A check by the revocation lists in {@code crlFile} (the URL's sslcrl), read by {@link #trusting}. */
    ServerCertificateCheck(String crlFile) {
        this.crlFile = crlFile;
    }

    /**
     * Trust in {@code anchors} (the certificates of sslrootcert, or the JDK's CAs), checked
     * against the revocation lists of the file, read now and again when it changes.
     *
     * @throws JobStoreException UNUSABLE, naming the file, when it is unreadable or holds no revocation list
     */
    TrustOptions trusting(Collection<X509Certificate> anchors) {
        return TrustOptions.wrap(trustManager(anchors));
    }

    /** {@link #trusting}'s trust manager. */
    X509ExtendedTrustManager trustManager(Collection<X509Certificate> anchors) {
        Set<TrustAnchor> trusted = anchors.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet());
        return new Recording(trusted, load(trusted));
    }

    /** Why the last handshake refused the server's certificate by the revocation lists, if it did. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }

    /** The file's lists as they are now, in the JDK's PKIX check. */
    private Loaded load(Set<TrustAnchor> anchors) {
        Object version = version();
        Collection<? extends CRL> lists;
        try (InputStream in = Files.newInputStream(Path.of(crlFile))) {
            lists = CertificateFactory.getInstance("X.509").generateCRLs(in);
            if (lists.isEmpty()) {
                throw new java.security.cert.CRLException("no revocation list in it");
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslcrl " + crlFile
                    + " (expected: a readable certificate revocation list, PEM or DER; " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        try {
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, new X509CertSelector());
            parameters.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(lists)));
            PKIXRevocationChecker revocation = (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
            // the lists of the file only: no OCSP request, no fetch from a distribution point
            revocation.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
            parameters.addCertPathChecker(revocation);
            parameters.setRevocationEnabled(true);
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(new CertPathTrustManagerParameters(parameters));
            for (TrustManager manager : factory.getTrustManagers()) {
                if (manager instanceof X509ExtendedTrustManager pkix) {
                    return new Loaded(version, pkix);
                }
            }
            throw new IllegalStateException("the JDK's PKIX TrustManagerFactory has no X509ExtendedTrustManager");
        } catch (GeneralSecurityException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslcrl " + crlFile
                    + " (the certificate check could not be set up: " + e.getMessage() + ")");
        }
    }

    /** What tells one content of the file from the next: its modification time, size and inode; null when unreadable. */
    private Object version() {
        try {
            BasicFileAttributes file = Files.readAttributes(Path.of(crlFile), BasicFileAttributes.class);
            return java.util.List.of(file.lastModifiedTime(), file.size(), String.valueOf(file.fileKey()));
        } catch (IOException e) {
            return null;
        }
    }

    /** The lists of one version of the file, in a PKIX trust manager. */
    private record Loaded(Object version, X509ExtendedTrustManager pkix) {
    }

    /** The JDK's PKIX check over the file's current lists, remembering why it refused a server by them. */
    private final class Recording extends X509ExtendedTrustManager {

        private final Set<TrustAnchor> anchors;
        private volatile Loaded loaded;

        Recording(Set<TrustAnchor> anchors, Loaded loaded) {
            this.anchors = anchors;
            this.loaded = loaded;
        }

        /**
         * The check over the file as it is now. why a stat at each handshake: it is cheap (one
         * per new connection, a few per minute at most) next to the handshake itself, and is
         * what lets a renewed list in before the old one's next update refuses every connection.
         */
        private X509ExtendedTrustManager current() throws CertificateException {
            Loaded now = loaded;
            if (!java.util.Objects.equals(now.version(), version())) {
                try {
                    now = load(anchors);
                    loaded = now;
                } catch (JobStoreException e) {
                    refusal = e.getMessage().replaceFirst("^shieldpool\\.jobs\\.postgresql\\.url: ", "") + ", read again as it changed";
                    throw new CertificateException(refusal);
                }
            }
            return now.pkix();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            X509ExtendedTrustManager pkix = current();
            try {
                pkix.checkServerTrusted(chain, authType, engine);
                refusal = null;
            } catch (CertificateException e) {
                remember(e, chain);
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            X509ExtendedTrustManager pkix = current();
            try {
                pkix.checkServerTrusted(chain, authType, socket);
                refusal = null;
            } catch (CertificateException e) {
                remember(e, chain);
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            X509ExtendedTrustManager pkix = current();
            try {
                pkix.checkServerTrusted(chain, authType);
                refusal = null;
            } catch (CertificateException e) {
                remember(e, chain);
                throw e;
            }
        }

        /** Keeps why the lists refused {@code chain}; forgets an earlier refusal when they did not (another check did). */
        private void remember(CertificateException refused, X509Certificate[] chain) {
            refusal = null;
            for (Throwable t = refused; t != null; t = t.getCause()) {
                if (t instanceof CertPathValidatorException invalid) {
                    int index = invalid.getIndex();
                    X509Certificate certificate = index >= 0 && index < chain.length ? chain[index] : chain[0];
                    String which = (index <= 0 ? "the server's certificate (" : "a CA certificate of its chain (")
                            + certificate.getSubjectX500Principal().getName() + ", serial "
                            + certificate.getSerialNumber().toString(16) + ")";
                    if (invalid.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
                        refusal = "sslcrl " + crlFile + " revokes " + which;
                    } else if (invalid.getReason() == CertPathValidatorException.BasicReason.UNDETERMINED_REVOCATION_STATUS) {
                        refusal = "sslcrl " + crlFile + " holds no valid revocation list from the issuer of " + which + " ("
                                + certificate.getIssuerX500Principal().getName() + "): none signed by it, or its next"
                                + " update is past";
                    }
                    return;
                }
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            loaded.pkix().checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            loaded.pkix().checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            loaded.pkix().checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return loaded.pkix().getAcceptedIssuers();
        }
    }
}
