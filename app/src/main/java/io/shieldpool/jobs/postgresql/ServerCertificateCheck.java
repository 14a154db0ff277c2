package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.net.TrustOptions;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

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
 * asked. What it refused is kept for the error line ({@link #refusal}). why kept: the client
 * reports every refused handshake as "SSL handshake failed", without the JDK's reason.
 * why not the client's own SSLOptions.addCrlPath: it only compares serial numbers, trusting a list
 * not signed by the CA and one long out of date, where libpq refuses both.
 */
final class ServerCertificateCheck {

    private final String crlFile;
    /** Why the last handshake's check refused the server's certificate; null when it did not. */
    private volatile String refusal;

    /** A check by the revocation lists in {@code crlFile} (the URL's sslcrl), read by {@link #trusting}. */
    ServerCertificateCheck(String crlFile) {
        this.crlFile = crlFile;
    }

    /**
     * Trust in {@code anchors} (the certificates of sslrootcert, or the JDK's CAs), checked
     * against the revocation lists of the file, read now (a new list takes effect at a restart).
     *
     * @throws JobStoreException UNUSABLE, naming the file, when it is unreadable or holds no revocation list
     */
    TrustOptions trusting(Collection<X509Certificate> anchors) {
        Collection<? extends CRL> lists = revocationLists();
        try {
            Set<TrustAnchor> trusted = new HashSet<>();
            anchors.forEach(ca -> trusted.add(new TrustAnchor(ca, null)));
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(trusted, new X509CertSelector());
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
                    return TrustOptions.wrap(new Recording(pkix));
                }
            }
            throw new IllegalStateException("the JDK's PKIX TrustManagerFactory has no X509ExtendedTrustManager");
        } catch (GeneralSecurityException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslcrl " + crlFile
                    + " (the certificate check could not be set up: " + e.getMessage() + ")");
        }
    }

    /** Why the last handshake refused the server's certificate by the revocation lists, if it did. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }

    private Collection<? extends CRL> revocationLists() {
        try (InputStream in = Files.newInputStream(Path.of(crlFile))) {
            Collection<? extends CRL> lists = CertificateFactory.getInstance("X.509").generateCRLs(in);
            if (lists.isEmpty()) {
                throw new java.security.cert.CRLException("no revocation list in it");
            }
            return lists;
        } catch (IOException | GeneralSecurityException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslcrl " + crlFile
                    + " (expected: a readable certificate revocation list, PEM or DER; " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }

    /** The JDK's PKIX check, remembering why it refused a server by the revocation lists. */
    private final class Recording extends X509ExtendedTrustManager {

        private final X509ExtendedTrustManager pkix;

        Recording(X509ExtendedTrustManager pkix) {
            this.pkix = pkix;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            refusal = null;
            try {
                pkix.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                remember(e, chain);
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            refusal = null;
            try {
                pkix.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                remember(e, chain);
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            refusal = null;
            try {
                pkix.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                remember(e, chain);
                throw e;
            }
        }

        private void remember(CertificateException refused, X509Certificate[] chain) {
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
            pkix.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            pkix.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }
}
