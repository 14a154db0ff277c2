package io.shieldpool.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class TextLineEncoderTest {

    private static String encode(TextLineEncoder encoder, Level level, Throwable cause) {
        LoggerContext context = new LoggerContext();
        Logger logger = context.getLogger("io.shieldpool.test");
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, level, "hello {}", cause, new Object[]{"world"});
        return new String(encoder.encode(event), StandardCharsets.UTF_8);
    }

    @Test
    void underJournaldEachLineStartsWithItsPriorityAndHasNoTimestamp() {
        TextLineEncoder journald = new TextLineEncoder(true);
        assertThat(encode(journald, Level.ERROR, null)).isEqualTo("<3>ERROR hello world\n");
        assertThat(encode(journald, Level.WARN, null)).isEqualTo("<4>WARN  hello world\n");
        assertThat(encode(journald, Level.INFO, null)).isEqualTo("<6>INFO  hello world\n");
        assertThat(encode(journald, Level.DEBUG, null)).isEqualTo("<7>DEBUG hello world\n");
        assertThat(encode(journald, Level.TRACE, null)).isEqualTo("<7>TRACE hello world\n");
    }

    @Test
    void aStackTraceKeepsItsPriorityOnEveryLine() {
        String text = encode(new TextLineEncoder(true), Level.ERROR, new IllegalStateException("boom"));
        assertThat(text.lines()).hasSizeGreaterThan(2).allMatch(line -> line.startsWith("<3>"));
    }

    @Test
    void elsewhereLinesStartWithATimestamp() {
        assertThat(encode(new TextLineEncoder(), Level.WARN, null))
                .matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  hello world\n");
    }
}
