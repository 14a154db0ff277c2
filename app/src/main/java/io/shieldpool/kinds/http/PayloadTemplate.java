package io.shieldpool.kinds.http;

import io.shieldpool.jobs.Job;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A URL or body with {@code {name}} placeholders filled from a job: {@code {id}} (any top-level
 * field of the payload object), {@code {payload}} (the whole payload as JSON), {@code {job.id}},
 * {@code {job.attempt}}, {@code {job.queue}}. In a URL the values are percent-encoded (and the
 * braces may arrive encoded, %7B...%7D, as the config keeps a URL); in a body they are inserted
 * as they are (strings without quotes, other values as JSON).
 */
final class PayloadTemplate {

    private static final Pattern URL_PLACEHOLDER = Pattern.compile("(?:\\{|%7[Bb])([A-Za-z0-9_.-]+)(?:\\}|%7[Dd])");
    private static final Pattern BODY_PLACEHOLDER = Pattern.compile("\\{([A-Za-z0-9_.-]+)\\}");

    private final String text;
    private final boolean url;
    private final boolean templated;

    PayloadTemplate(String text, boolean url) {
        this.text = text;
        this.url = url;
        this.templated = (url ? URL_PLACEHOLDER : BODY_PLACEHOLDER).matcher(text).find();
    }

    boolean templated() {
        return templated;
    }

    /** The text with every placeholder filled from {@code job}. */
    String render(Job job) {
        Matcher m = (url ? URL_PLACEHOLDER : BODY_PLACEHOLDER).matcher(text);
        JsonObject payload = job.payloadObject();
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = switch (name) {
                case "job.id" -> Long.toString(job.id());
                case "job.attempt" -> Integer.toString(job.attempt());
                case "job.queue" -> job.queue();
                case "payload" -> job.payload();
                default -> {
                    if (!payload.containsKey(name)) {
                        throw new MissingField("work.http." + (url ? "url" : "body") + " {" + name + "}: job "
                                + job.id() + "'s payload has no field " + name);
                    }
                    Object field = payload.getValue(name);
                    yield field instanceof String s ? s : Json.encode(field);
                }
            };
            m.appendReplacement(out, Matcher.quoteReplacement(url ? URLEncoder.encode(value, StandardCharsets.UTF_8)
                    .replace("+", "%20") : value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A placeholder the payload cannot fill: the section fails with this one line. */
    static final class MissingField extends RuntimeException {
        MissingField(String message) {
            super(message, null, false, false);
        }
    }
}
