package io.shieldpool.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import org.slf4j.event.KeyValuePair;

import java.util.List;

/** Pieces both encoders share. */
final class LineFormat {

    private LineFormat() {
    }

    static List<KeyValuePair> keyValues(ILoggingEvent event) {
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        return pairs == null ? List.of() : pairs;
    }

    /** Class, message and a short stack (for bugs only: user mistakes never carry a throwable). */
    static void appendThrowable(StringBuilder out, IThrowableProxy proxy) {
        out.append(proxy.getClassName());
        if (proxy.getMessage() != null) {
            out.append(": ").append(proxy.getMessage());
        }
        StackTraceElementProxy[] frames = proxy.getStackTraceElementProxyArray();
        for (int i = 0; frames != null && i < frames.length && i < 30; i++) {
            out.append("\n\tat ").append(frames[i].getStackTraceElement());
        }
        if (proxy.getCause() != null && proxy.getCause() != proxy) {
            out.append("\nCaused by: ");
            appendThrowable(out, proxy.getCause());
        }
    }
}
