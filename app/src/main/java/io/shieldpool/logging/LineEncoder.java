package io.shieldpool.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;

/**
 * What the two line formats share: one line per event, no header or footer, and under journald
 * each line prefixed with its syslog priority, which journald takes off and files the line at.
 */
abstract sealed class LineEncoder extends EncoderBase<ILoggingEvent> permits JsonLineEncoder, TextLineEncoder {

    /** Whether each line starts with its syslog priority ({@link #priority}). */
    final boolean journald;

    LineEncoder(boolean journald) {
        this.journald = journald;
    }

    @Override
    public final byte[] headerBytes() {
        return null;
    }

    @Override
    public final byte[] footerBytes() {
        return null;
    }

    /** The syslog priority journald reads from a line's start: err, warning, info, debug. */
    static String priority(int level) {
        if (level >= Level.ERROR_INT) {
            return "<3>";
        } else if (level >= Level.WARN_INT) {
            return "<4>";
        } else if (level >= Level.INFO_INT) {
            return "<6>";
        }
        return "<7>";
    }
}
