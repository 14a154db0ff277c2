package io.shieldpool.kinds.plugin;

import org.slf4j.Logger;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * A plug-in section's logger: each line carries {@code worker} and {@code section} in its MDC, on
 * whatever thread it is written. why: an event loop runs many workers' sections interleaved, so a
 * thread-wide MDC would mislabel lines; setting it around each call costs nothing when no line is
 * written (levels are checked first).
 */
final class SectionLogger extends AbstractLogger {

    private static final long serialVersionUID = 1L;

    private final transient Logger delegate;
    private final String worker;
    private final String section;

    SectionLogger(Logger delegate, long worker, long section) {
        this.delegate = delegate;
        this.name = delegate.getName();
        this.worker = Long.toString(worker);
        this.section = Long.toString(section);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
                                               Throwable throwable) {
        String previousWorker = MDC.get("worker");
        String previousSection = MDC.get("section");
        MDC.put("worker", worker);
        MDC.put("section", section);
        try {
            LoggingEventBuilder event = delegate.atLevel(level).setMessage(messagePattern);
            if (marker != null) {
                event.addMarker(marker);
            }
            if (arguments != null) {
                for (Object argument : arguments) {
                    event.addArgument(argument);
                }
            }
            if (throwable != null) {
                event.setCause(throwable);
            }
            event.log();
        } finally {
            restore("worker", previousWorker);
            restore("section", previousSection);
        }
    }

    private static void restore(String key, String previous) {
        if (previous == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, previous);
        }
    }

    @Override
    public boolean isTraceEnabled() {
        return delegate.isTraceEnabled();
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
        return delegate.isTraceEnabled(marker);
    }

    @Override
    public boolean isDebugEnabled() {
        return delegate.isDebugEnabled();
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
        return delegate.isDebugEnabled(marker);
    }

    @Override
    public boolean isInfoEnabled() {
        return delegate.isInfoEnabled();
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
        return delegate.isInfoEnabled(marker);
    }

    @Override
    public boolean isWarnEnabled() {
        return delegate.isWarnEnabled();
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
        return delegate.isWarnEnabled(marker);
    }

    @Override
    public boolean isErrorEnabled() {
        return delegate.isErrorEnabled();
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
        return delegate.isErrorEnabled(marker);
    }
}
