package io.shieldpool.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One flat JSON object per line: timestamp (ISO-8601, microseconds, UTC), level, logger, thread,
 * message, then the MDC entries and the event's key-value pairs as top-level keys, numbers as
 * JSON numbers. Every line has an {@code event} ({@value #LIBRARY_EVENT} when its logger gave none). Flat on purpose: operators alert on {@code event} and tests read the fields
 * without knowing logback's nesting.
 *
 * <p>Under journald each line starts with its syslog priority ({@code <4>{"timestamp":...}}):
 * journald takes the prefix off and files the line at that priority, so the journal's MESSAGE is
 * the bare JSON object and {@code journalctl -p warning} works for JSON logs too.
 */
public final class JsonLineEncoder extends LineEncoder {

    /**
     * The {@code event} of a line that names none: a library's (Vert.x, Netty) or a plug-in's own
     * logger. shieldpool's own lines all name theirs, so every line has one to filter on.
     */
    public static final String LIBRARY_EVENT = "library.log";

    /** Bare JSON lines, for a terminal, a file or a log shipper. */
    public JsonLineEncoder() {
        this(false);
    }

    /** @param journald prefix each line with its syslog priority */
    public JsonLineEncoder(boolean journald) {
        super(journald);
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(256);
        if (journald) {
            out.append(priority(event.getLevel().toInt()));
        }
        out.append("{\"timestamp\":\"");
        appendTimestamp(out, event.getInstant());
        out.append("\",\"level\":\"").append(event.getLevel().toString()).append('"');
        field(out, "logger", event.getLoggerName());
        field(out, "thread", event.getThreadName());
        field(out, "message", event.getFormattedMessage());
        var pairs = LineFormat.keyValues(event);
        Set<String> keys = new HashSet<>();
        for (KeyValuePair pair : pairs) {
            keys.add(pair.key);
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        boolean hasEvent = keys.contains("event") || (mdc != null && mdc.containsKey("event"));
        if (!hasEvent) {
            field(out, "event", LIBRARY_EVENT);
        }
        if (mdc != null) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                // why: a key given as a key-value keeps its type; an MDC copy would repeat the key as a string
                if (!keys.contains(e.getKey())) {
                    field(out, e.getKey(), e.getValue());
                }
            }
        }
        for (KeyValuePair pair : pairs) {
            field(out, pair.key, pair.value);
        }
        if (event.getThrowableProxy() != null) {
            StringBuilder trace = new StringBuilder();
            LineFormat.appendThrowable(trace, event.getThrowableProxy());
            field(out, "exception", trace.toString());
        }
        out.append("}\n");
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void appendTimestamp(StringBuilder out, Instant instant) {
        String iso = instant.toString(); // e.g. 2026-11-22T07:18:10.123456789Z
        int dot = iso.indexOf('.');
        if (dot < 0) {
            out.append(iso, 0, iso.length() - 1).append(".000000Z");
        } else {
            String fraction = iso.substring(dot + 1, iso.length() - 1);
            out.append(iso, 0, dot + 1).append((fraction + "000000").substring(0, 6)).append('Z');
        }
    }

    private static void field(StringBuilder out, String key, Object value) {
        out.append(",\"");
        escape(out, key);
        out.append("\":");
        if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Iterable<?> items) {
            out.append('[');
            boolean first = true;
            for (Object item : items) {
                out.append(first ? "" : ",");
                first = false;
                if (item instanceof Number || item instanceof Boolean) {
                    out.append(item);
                } else {
                    out.append('"');
                    escape(out, String.valueOf(item));
                    out.append('"');
                }
            }
            out.append(']');
        } else if (value == null) {
            out.append("null");
        } else {
            out.append('"');
            escape(out, value.toString());
            out.append('"');
        }
    }

    static void escape(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }
}
