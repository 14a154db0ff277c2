package io.shieldpool.kinds.http;

import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.Rule;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The http kind's settings ({@code shieldpool.work.http}): one request per section.
 *
 * @param method          request method, upper case
 * @param url             absolute http(s) URL; empty only when http is not used
 * @param headers         extra request headers
 * @param body            request body; empty sends none
 * @param timeout         time limit of one request, > 0
 * @param successStatuses statuses that complete a section
 * @param maxRate         most requests per second across the pool; 0 means no limit
 */
public record HttpSettings(String method, Optional<URI> url, Map<String, String> headers, String body,
                           Duration timeout, StatusSet successStatuses, double maxRate) implements KindSettings {

    static final Rule<Duration> TIMEOUT = Rule.durationAtLeast("shieldpool.work.http.timeout", Duration.ofMillis(1),
            Duration.ofSeconds(30));
    static final Rule<Double> MAX_RATE = new Rule<>("shieldpool.work.http.max-rate",
            "a number of requests per second >= 0 (0: no limit)", r -> r >= 0, 0.0);

    public HttpSettings {
        Objects.requireNonNull(method);
        Objects.requireNonNull(url);
        headers = Map.copyOf(headers);
        Objects.requireNonNull(body);
        Objects.requireNonNull(successStatuses);
        TIMEOUT.check(timeout);
        MAX_RATE.check(maxRate);
    }

    @Override
    public String toString() {
        // why: headers often carry credentials; a record's toString would print them.
        return "HttpSettings[method=" + method + ", url=" + shownUrl() + ", headers="
                + headers.keySet() + ", timeout=" + timeout + ", successStatuses=" + successStatuses
                + ", maxRate=" + maxRate + "]";
    }

    /** The URL as logs show it: a password, and query parameters named like credentials, masked. */
    public String shownUrl() {
        return url.map(u -> EffectiveConfig.withoutCredentials(u.toString())).orElse("");
    }

    /**
     * HTTP statuses, as single codes and whole classes ({@code 2xx}).
     *
     * @param codes   single statuses
     * @param classes hundreds digits of whole classes (2 for 2xx)
     */
    public record StatusSet(Set<Integer> codes, Set<Integer> classes) {
        public StatusSet {
            codes = Set.copyOf(codes);
            classes = Set.copyOf(classes);
        }

        /** Whether {@code status} is in the set. */
        public boolean contains(int status) {
            return codes.contains(status) || classes.contains(status / 100);
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            classes.stream().sorted().forEach(c -> parts.add(c + "xx"));
            codes.stream().sorted().forEach(c -> parts.add(Integer.toString(c)));
            return String.join(",", parts);
        }
    }
}
