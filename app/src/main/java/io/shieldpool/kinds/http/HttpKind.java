package io.shieldpool.kinds.http;

import com.typesafe.config.ConfigValue;
import io.shieldpool.config.ConfigReader;
import io.shieldpool.config.Durations;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.kinds.PreparedKind;
import io.shieldpool.kinds.StallAdvice;
import io.shieldpool.kinds.Work;
import io.shieldpool.kinds.WorkKind;
import io.vertx.core.Vertx;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** The http kind: each section sends one request through the daemon's pooled client (see {@link HttpWork}). */
public final class HttpKind implements WorkKind {

    /** HTTP methods the http kind sends. */
    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    private static final String HEADERS = "shieldpool.work.http.headers";

    @Override
    public String name() {
        return "http";
    }

    @Override
    public KindSettings readSettings(ConfigReader reader, String type, boolean running) {
        String method = reader.oneOf("shieldpool.work.http.method", METHODS.stream().map(m -> m.toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet()), "get").toUpperCase(Locale.ROOT);
        Optional<URI> url = url(reader, "shieldpool.work.http.url", running);
        Map<String, String> headers = reader.stringMap(HEADERS, "[!#$%&'*+.^_`|~0-9A-Za-z-]+",
                "header names (letters, digits and !#$%&'*+.^_`|~-)");
        String body = reader.string("shieldpool.work.http.body");
        Duration timeout = reader.duration(HttpSettings.TIMEOUT);
        HttpSettings.StatusSet statuses = statusSet(reader, "shieldpool.work.http.success-statuses");
        double maxRate = reader.number(HttpSettings.MAX_RATE);
        return new HttpSettings(method, url, headers, body, timeout, statuses, maxRate);
    }

    private static Optional<URI> url(ConfigReader reader, String key, boolean required) {
        String expected = "an absolute http:// or https:// URL with a host, such as https://api.example.com/v1/sync";
        String text = reader.string(key).trim();
        if (text.isEmpty()) {
            if (required) {
                reader.problem(key, expected);
            }
            return Optional.empty();
        }
        try {
            // why the braces: {name} placeholders (filled from a job's payload) are kept percent-encoded.
            URI uri = new URI(text.replace("{", "%7B").replace("}", "%7D"));
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                if (uri.getPort() > 65535) {
                    // why here: the client refused it at each request, in words naming no URL
                    reader.problem(key, EffectiveConfig.withoutCredentials(text), "a URL whose port is from 1 to 65535");
                    return Optional.empty();
                }
                return Optional.of(uri);
            }
        } catch (URISyntaxException ignored) {
            // reported below
        }
        reader.problem(key, EffectiveConfig.withoutCredentials(text), expected);
        return Optional.empty();
    }

    private static HttpSettings.StatusSet statusSet(ConfigReader reader, String key) {
        String expected = "a non-empty list of statuses 100-599 or classes such as \"2xx\"";
        HttpSettings.StatusSet fallback = new HttpSettings.StatusSet(Set.of(), Set.of(2));
        Set<Integer> codes = new HashSet<>();
        Set<Integer> classes = new HashSet<>();
        List<? extends ConfigValue> list = reader.list(key).orElse(List.of());
        if (list.isEmpty()) {
            reader.problem(key, expected);
            return fallback;
        }
        for (ConfigValue item : list) {
            String text = String.valueOf(item.unwrapped()).trim().toLowerCase(Locale.ROOT);
            if (text.matches("[1-5]xx")) {
                classes.add(text.charAt(0) - '0');
            } else if (text.matches("[1-5][0-9][0-9]")) {
                codes.add(Integer.parseInt(text));
            } else {
                reader.problem(key, expected);
                return fallback;
            }
        }
        return new HttpSettings.StatusSet(codes, classes);
    }

    @Override
    public List<String> operatorNamedKeys(String type) {
        return List.of(HEADERS + ".");
    }

    @Override
    public List<String> advice(ShieldpoolConfig config) {
        HttpSettings http = (HttpSettings) config.work().settings();
        Duration grace = config.shutdown().grace();
        Duration timeout = config.work().timeout();
        List<String> warnings = new ArrayList<>();
        if (timeout.isZero() && http.timeout().compareTo(grace) > 0) {
            warnings.add("work.http.timeout " + Durations.format(http.timeout())
                    + " is longer than shutdown.grace " + Durations.format(grace)
                    + ": a slow request during a shutdown is cut by the grace cap");
        }
        warnings.addAll(rateLimitWaits(config, http));
        // why: http.timeout bounds getting a connection and, on a fresh clock, the exchange from
        // sending; without work.timeout the wait in line comes before both.
        Duration longest = timeout.isZero() ? http.timeout().multipliedBy(2).plus(fullLine(config, http)) : timeout;
        warnings.addAll(StallAdvice.forSectionsWithoutSteps(config, longest));
        return warnings;
    }

    /**
     * why: under max-rate every worker waits in one line, so the last of a full line waits about
     * pool.size / max-rate for its turn. work.timeout counts that wait (http.timeout does not: it
     * starts at sending), and so does a drain, which lets every waiting section send.
     */
    private static List<String> rateLimitWaits(ShieldpoolConfig config, HttpSettings http) {
        int size = config.pool().size();
        if (http.maxRate() <= 0 || size == 0) {
            return List.of();
        }
        Duration line = fullLine(config, http);
        String wait = "pool.size " + size + " / work.http.max-rate "
                + BigDecimal.valueOf(http.maxRate()).stripTrailingZeros().toPlainString() + " = "
                + Durations.format(line) + " for a full line of sections to send";
        List<String> warnings = new ArrayList<>();
        Duration timeout = config.work().timeout();
        if (!timeout.isZero() && line.compareTo(timeout) > 0) {
            warnings.add(wait + ", longer than work.timeout " + Durations.format(timeout)
                    + ": sections at the back of the line time out before sending; lower pool.size or raise "
                    + "work.http.max-rate or work.timeout");
        }
        Duration grace = config.shutdown().grace();
        if (line.compareTo(grace) > 0) {
            warnings.add(wait + ", longer than shutdown.grace " + Durations.format(grace)
                    + ": a drain lets every waiting section send, so the grace cap would cut the last ones; "
                    + "lower pool.size or raise work.http.max-rate or shutdown.grace");
        }
        return warnings;
    }

    /** About how long a full line of pool.size sections takes to send under max-rate (0 without one). */
    private static Duration fullLine(ShieldpoolConfig config, HttpSettings http) {
        return http.maxRate() <= 0 ? Duration.ZERO
                : Duration.ofMillis(Math.round(config.pool().size() * 1000 / http.maxRate()));
    }

    @Override
    public PreparedKind preflight(EffectiveConfig config, List<String> builtIn) {
        return Runtime::new;
    }

    /**
     * The HTTP client and rate limit, shared by the http works of every reload. why built at the
     * first {@link #create}: that runs on the supervisor's event loop as the pool starts, where
     * the client is created as part of the pool (created from the main thread before the
     * supervisor, the first requests of a run were measurably slower; HttpWorkIT's timing tests).
     */
    private static final class Runtime implements KindRuntime {
        private final Vertx vertx;
        private volatile HttpWork.Factory http;
        private final RetryCounts counts = new RetryCounts();

        Runtime(Vertx vertx) {
            this.vertx = vertx;
        }

        @Override
        public Work create(ShieldpoolConfig config) {
            if (http == null) {
                http = new HttpWork.Factory(vertx, config.pool().size(), counts);
            }
            return http.create((HttpSettings) config.work().settings(), config.work().timeout(), config.pool().size());
        }

        @Override
        public void bindMeters(io.micrometer.core.instrument.MeterRegistry registry) {
            // why the counts, not the factory: /metrics may be built before the first section.
            counts.bindTo(registry);
        }

        @Override
        public void poolResized(int poolSize) {
            HttpWork.Factory client = http;
            if (client != null) {
                client.poolResized(poolSize);
            }
        }

        @Override
        public void shutdown() {
            HttpWork.Factory client = http;
            if (client == null) {
                return;
            }
            try {
                client.close().await(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // Vert.x closes it anyway
            }
        }
    }
}
