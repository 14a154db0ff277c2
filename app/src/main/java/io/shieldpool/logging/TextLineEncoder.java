package io.shieldpool.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Human-readable lines: {@code 2026-11-22 07:18:10.123 INFO  message [event=ready workers=3]}.
 * The event fields go in brackets after the message, so people read the sentence and grep the keys.
 *
 * <p>Under journald the line starts with its syslog priority instead of a timestamp
 * ({@code <6>INFO  message ...}): journald stamps each line itself and reads the prefix as the
 * priority, so {@code journalctl -p warning} finds warnings and errors. Continuation lines of a
 * stack trace carry the same prefix.
 */
public final class TextLineEncoder extends LineEncoder {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    /** Timestamped lines, for a terminal or a file. */
    public TextLineEncoder() {
        this(false);
    }

    /** @param journald prefix syslog priorities and leave the timestamps to journald */
    public TextLineEncoder(boolean journald) {
        super(journald);
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(160);
        String priority = journald ? priority(event.getLevel().toInt()) : null;
        if (journald) {
            out.append(priority);
        } else {
            TIME.formatTo(event.getInstant(), out);
            out.append(' ');
        }
        String level = event.getLevel().toString();
        out.append(level).append(" ".repeat(Math.max(1, 6 - level.length())));
        out.append(event.getFormattedMessage());
        var pairs = LineFormat.keyValues(event);
        if (!pairs.isEmpty()) {
            out.append(" [");
            for (int i = 0; i < pairs.size(); i++) {
                KeyValuePair pair = pairs.get(i);
                out.append(i == 0 ? "" : " ").append(pair.key).append('=').append(pair.value);
            }
            out.append(']');
        }
        if (event.getThrowableProxy() != null) {
            StringBuilder trace = new StringBuilder();
            LineFormat.appendThrowable(trace, event.getThrowableProxy());
            out.append('\n').append(journald ? priority + trace.toString().replace("\n", "\n" + priority) : trace);
        }
        out.append('\n');
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }
}
