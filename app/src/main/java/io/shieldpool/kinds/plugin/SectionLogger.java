package io.shieldpool.kinds.plugin;

import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.spi.LoggingEventAware;
import org.slf4j.spi.LoggingEventBuilder;

import java.util.List;

/**
 * A plug-in section's logger: each line carries {@code worker} and {@code section} as numeric
 * key-value fields, and {@code event} {@value #EVENT} unless the plug-in gave one, on whatever
 * thread it is written. why key-values, not the MDC: the MDC holds strings only (a typed log index
 * would see {@code "section":"1"} here and {@code "section":1} in the daemon's section lines), and
 * an event loop runs many workers' sections interleaved, where a thread-wide MDC would mislabel
 * lines. The plug-in's own key-values (fluent API) are kept.
 */
final class SectionLogger extends AbstractLogger implements LoggingEventAware {

    static final String EVENT = "plugin.log";

    private static final long serialVersionUID = 1L;

    private final transient Logger delegate;
    private final long worker;
    private final long section;

    SectionLogger(Logger delegate, long worker, long section) {
        this.delegate = delegate;
        this.name = delegate.getName();
        this.worker = worker;
        this.section = section;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
                                               Throwable throwable) {
        LoggingEventBuilder event = start(level, List.of());
        event.setMessage(messagePattern);
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
    }

    /** The fluent API's way in ({@code logger.atInfo().addKeyValue(...).log(...)}). */
    @Override
    public void log(LoggingEvent given) {
        List<KeyValuePair> pairs = given.getKeyValuePairs() == null ? List.of() : given.getKeyValuePairs();
        LoggingEventBuilder event = start(given.getLevel(), pairs);
        event.setMessage(given.getMessage());
        if (given.getMarkers() != null) {
            given.getMarkers().forEach(event::addMarker);
        }
        if (given.getArguments() != null) {
            given.getArguments().forEach(event::addArgument);
        }
        for (KeyValuePair pair : pairs) {
            if (!pair.key.equals("event") && !pair.key.equals("worker") && !pair.key.equals("section")) {
                event.addKeyValue(pair.key, pair.value);
            }
        }
        if (given.getThrowable() != null) {
            event.setCause(given.getThrowable());
        }
        event.log();
    }

    /** A builder with event (the plug-in's, or ours), worker and section first. */
    private LoggingEventBuilder start(Level level, List<KeyValuePair> given) {
        Object event = EVENT;
        for (KeyValuePair pair : given) {
            if (pair.key.equals("event") && pair.value != null) {
                event = pair.value;
            }
        }
        return delegate.atLevel(level).addKeyValue("event", event).addKeyValue("worker", worker)
                .addKeyValue("section", section);
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
