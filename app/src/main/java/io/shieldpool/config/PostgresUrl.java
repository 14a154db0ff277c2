package io.shieldpool.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The query parameters of a {@code jobs.postgresql.url}, read the way the PostgreSQL client reads
 * them (names in any case, values percent-decoded as libpq does: %XX only, a {@code +} is a plus), for the checks the client does not make
 * and the parameters it does not read itself ({@code sslrootcert}). Validation and the store
 * read the URL through here, so both see the same parameters.
 */
public final class PostgresUrl {

    /**
     * The query parameters a URL may carry: those the client reads, and sslrootcert, sslcert,
     * sslkey, sslpassword, sslcrl and connect_timeout, which the store reads. why a list: the client ignores any other
     * silently, so a libpq parameter it does not know (sslcrldir, target_session_attrs) or a typo would look set and
     * do nothing.
     */
    public static final List<String> PARAMETERS = List.of("host", "hostaddr", "port", "user", "password", "dbname",
            "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl", "connect_timeout", "application_name",
            "fallback_application_name", "search_path", "options");

    /** sslrootcert's word for the JDK's default trust store (as libpq 16's sslrootcert=system). */
    public static final String SYSTEM_ROOTS = "system";

    private PostgresUrl() {
    }

    /** The query parameters of {@code url}, names lower-cased, in their order; the last of a name wins. */
    public static Map<String, String> parameters(String url) {
        Map<String, String> parameters = new LinkedHashMap<>();
        int query = url.indexOf('?');
        if (query < 0) {
            return parameters;
        }
        int fragment = url.indexOf('#', query);
        for (String pair : url.substring(query + 1, fragment < 0 ? url.length() : fragment).split("&")) {
            int equals = pair.indexOf('=');
            String name = (equals < 0 ? pair : pair.substring(0, equals)).toLowerCase(Locale.ROOT);
            if (!name.isEmpty()) {
                String value = equals < 0 ? "" : pair.substring(equals + 1).trim();
                try {
                    // why the %2B: URLDecoder decodes forms, where + is a space; libpq decodes %XX only, so
                    // sslpassword=a+b is "a+b" and sslkey=/etc/k+1.pem a file with a plus in its name
                    value = URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException badEscape) {
                    // kept as written: the client's own parse reports it
                }
                parameters.put(name, value);
            }
        }
        return parameters;
    }

    /** The first query parameter of {@code url} that is not one of {@link #PARAMETERS}, if any. */
    static Optional<String> unknownParameter(String url) {
        return parameters(url).keySet().stream().filter(name -> !PARAMETERS.contains(name)).findFirst();
    }

    /** The sslmode the URL asks for, lower-case; "disable" when it names none (the client's default). */
    public static String sslMode(String url) {
        return parameters(url).getOrDefault("sslmode", "disable").toLowerCase(Locale.ROOT);
    }

    /** The client certificate (sslcert, a PEM file) and its key (sslkey, PEM, encrypted or not) the URL names, if any. */
    public static Optional<String> sslCert(String url) {
        return Optional.ofNullable(parameters(url).get("sslcert")).filter(v -> !v.isEmpty());
    }

    /** @see #sslCert */
    public static Optional<String> sslKey(String url) {
        return Optional.ofNullable(parameters(url).get("sslkey")).filter(v -> !v.isEmpty());
    }

    /** The sslrootcert the URL names, if any: a PEM file of the CAs to trust, or {@link #SYSTEM_ROOTS}. */
    public static Optional<String> sslRootCert(String url) {
        return Optional.ofNullable(parameters(url).get("sslrootcert")).filter(v -> !v.isEmpty());
    }

    /** The passphrase of an encrypted sslkey (sslpassword), if the URL gives one; "" is none, as in libpq. */
    public static Optional<String> sslPassword(String url) {
        return Optional.ofNullable(parameters(url).get("sslpassword")).filter(v -> !v.isEmpty());
    }

    /** The certificate revocation list (sslcrl, a PEM or DER file) the server's certificate is checked against, if any. */
    public static Optional<String> sslCrl(String url) {
        return Optional.ofNullable(parameters(url).get("sslcrl")).filter(v -> !v.isEmpty());
    }

    /**
     * How long a connection may take to open (connect_timeout, whole seconds, as libpq reads it:
     * 0 or less is no limit, 1 is 2, the least libpq allows); empty when the URL gives none.
     *
     * @throws NumberFormatException when it is not a whole number
     */
    public static Optional<java.time.Duration> connectTimeout(String url) {
        String value = parameters(url).get("connect_timeout");
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        long seconds = Long.parseLong(value);
        return Optional.of(seconds <= 0 ? java.time.Duration.ZERO : java.time.Duration.ofSeconds(Math.max(2, seconds)));
    }
}
