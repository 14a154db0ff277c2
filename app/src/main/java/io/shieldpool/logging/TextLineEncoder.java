package io.shieldpool.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Human-readable lines: {@code 2026-11-22 07:18:10.123 INFO  message [event=ready workers=3]}.
 * The event fields go in brackets after the message, so people read the sentence and grep the keys.
 */
public final class TextLineEncoder extends EncoderBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(160);
        TIME.formatTo(event.getInstant(), out);
        String level = event.getLevel().toString();
        out.append(' ').append(level).append(" ".repeat(Math.max(1, 6 - level.length())));
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
            out.append('\n');
            LineFormat.appendThrowable(out, event.getThrowableProxy());
        }
        out.append('\n');
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }
}
