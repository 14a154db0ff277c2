package io.shieldpool.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A validated config together with every key's value as written and where it came from: what
 * check-config prints, what a reload diffs, and what the start-up line logs. Secrets are masked
 * here, once, so no caller can forget to.
 *
 * @param config  the validated value the daemon runs on
 * @param entries every key under {@code shieldpool}, sorted, with its rendered value and origin
 */
public record EffectiveConfig(ShieldpoolConfig config, Map<String, Entry> entries) {

    /** What a masked secret shows instead of its value. */
    public static final String MASK = "********";

    /** @param value rendered value (masked for secrets); @param origin file:line, "reference.conf", "env variables"... */
    public record Entry(String value, String origin) {
    }

    public EffectiveConfig {
        Objects.requireNonNull(config);
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** @param operatorNamed key prefixes whose keys the operator names (their credential-like names are masked) */
    static EffectiveConfig of(ShieldpoolConfig config, Config merged, java.util.List<String> operatorNamed) {
        Map<String, Entry> entries = new TreeMap<>();
        if (merged.hasPath(ConfigLoader.ROOT)) {
            for (Map.Entry<String, ConfigValue> e : merged.getConfig(ConfigLoader.ROOT).entrySet()) {
                String key = ConfigLoader.ROOT + "." + e.getKey();
                String rendered = ConfigReader.render(e.getValue());
                // An unset secret shows as unset; a set one never shows at all.
                String value = isSecret(key, operatorNamed) && !rendered.equals("\"\"") ? MASK
                        : key.equals(ConfigLoader.ROOT + ".jobs.postgresql.url") ? withoutPassword(rendered)
                        : key.equals(ConfigLoader.ROOT + ".work.http.url") ? withoutCredentials(rendered) : rendered;
                String origin = ConfigReader.where(e.getValue().origin());
                entries.put(key, new Entry(value, origin == null ? "" : origin.replaceFirst("^merge of ", "")));
            }
        }
        return new EffectiveConfig(config, entries);
    }

    /**
     * A libpq URI with the password it may carry replaced by {@code ***} (user:PASSWORD@host, or a
     * password= parameter), and the value of any query parameter whose name holds "pass" in any case
     * (sslpassword=, ssl_password=); in a postgresql:// URI, the value of every parameter but those of
     * {@link PostgresUrl#PARAMETERS} that carry no secret. why: a misspelt name (sslpasword=, pasword=) is
     * named as unknown in a line that shows the URL, and no rule on names tells every typo of a
     * password apart; the line names the parameter, which is what the operator needs. The rest
     * (host, database, the paths of the key and certificates) is what an operator needs to see. why not
     * a pattern stopping at {@code /} or {@code ?}: a password typed unencoded may hold them (the
     * URI then fails to parse, and the error line showed it whole); the password runs to the last
     * {@code @} before the query, or to the last {@code @} at all when none is before it (a
     * {@code ?} in the password). When unsure it hides too much, never too little.
     */
    public static String withoutPassword(String uri) {
        int scheme = uri.indexOf("://");
        String masked = uri;
        if (scheme >= 0) {
            int start = scheme + 3;
            int colon = uri.indexOf(':', start);
            boolean user = colon >= 0 && uri.substring(start, colon).chars().noneMatch(c -> c == '/' || c == '@' || c == '?');
            if (user) {
                int query = uri.indexOf('?', colon);
                int at = uri.lastIndexOf('@', query < 0 ? uri.length() : query);
                if (at <= colon) {
                    at = uri.lastIndexOf('@');
                }
                if (at > colon) {
                    masked = uri.substring(0, colon + 1) + "***" + uri.substring(at);
                }
            }
        }
        boolean libpq = LIBPQ.matcher(masked).lookingAt();
        return PARAMETER.matcher(masked).replaceAll(p -> {
            String name = p.group(2).toLowerCase(java.util.Locale.ROOT);
            boolean shown = libpq ? SHOWN_LIBPQ.contains(name) : !name.contains("pass");
            return java.util.regex.Matcher.quoteReplacement(shown ? p.group() : p.group(1) + p.group(2) + "=***");
        });
    }

    private static final java.util.regex.Pattern LIBPQ = java.util.regex.Pattern.compile("(?i)\"?postgres(?:ql)?://");
    /** A query parameter: its separator, its name, its value (to the next {@code &}, or a closing quote). */
    private static final java.util.regex.Pattern PARAMETER = java.util.regex.Pattern.compile("([?&])([^=&\"]*)=([^&\"]*)");
    private static final Set<String> SHOWN_LIBPQ = PostgresUrl.PARAMETERS.stream()
            .filter(name -> !name.contains("pass")).collect(java.util.stream.Collectors.toUnmodifiableSet());

    /**
     * An http(s) URL as logs and output show it: a password in it masked as by
     * {@link #withoutPassword}, and the value of each query parameter named like a credential
     * ({@code ?api_key=}, {@code access_token=}, {@code sig=}...), as header values are by their names.
     */
    public static String withoutCredentials(String url) {
        return withoutPassword(url).replaceAll(
                "(?i)([?&][^=&#\"]*(?:token|key|secret|pass|auth|sig|credential)[^=&#\"]*=)[^&#\"]*", "$1***");
    }

    /** Keys whose values never appear in logs or output. */
    static boolean isSecret(String key, java.util.List<String> operatorNamed) {
        String last = key.substring(key.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
        if (last.contains("token") || last.contains("password") || last.contains("secret")) {
            return true;
        }
        // why: headers and environment variables are named by the operator; the usual carriers of
        // credentials (Authorization, Cookie, X-Api-Key, DB_PASS...) are masked by their names.
        boolean named = operatorNamed.stream().anyMatch(key::startsWith);
        return named && (last.contains("auth") || last.contains("cookie") || last.contains("key")
                || last.contains("pass") || last.contains("credential"));
    }

    /** Keys whose value differs from {@code previous} (added or removed keys count as changed). */
    public Set<String> changedKeys(EffectiveConfig previous) {
        Set<String> changed = new TreeSet<>();
        Set<String> all = new TreeSet<>(entries.keySet());
        all.addAll(previous.entries.keySet());
        for (String key : all) {
            Entry now = entries.get(key);
            Entry before = previous.entries.get(key);
            if (now == null || before == null || !now.value().equals(before.value())) {
                changed.add(key);
            }
        }
        return changed;
    }

    /** Values only, for one log line. */
    public Map<String, String> values() {
        Map<String, String> values = new LinkedHashMap<>();
        entries.forEach((k, v) -> values.put(k, v.value()));
        return values;
    }
}
