package io.shieldpool.admin;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class UnauthorizedLogTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final UnauthorizedLog log = new UnauthorizedLog(now::get);
    private final Logger logger = (Logger) LoggerFactory.getLogger(AdminServer.class);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    @BeforeEach
    void capture() {
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void release() {
        logger.detachAppender(lines);
    }

    @Test
    void atMostOneLinePerIntervalHoweverManyRefusals() {
        assertThat(log.refused("GET", "/status", "10.0.0.1:5000", "wrong token")).as("the first is logged").isTrue();
        for (int i = 0; i < 1000; i++) {
            now.addAndGet(1_000_000); // 1 ms apart: a flood
            assertThat(log.refused("GET", "/metrics", "10.0.0.1:5000", "wrong token")).isFalse();
        }
        now.addAndGet(UnauthorizedLog.INTERVAL.toNanos());
        assertThat(log.refused("GET", "/", "10.0.0.1:5000", "no token")).as("the next interval logs again").isTrue();
        assertThat(log.refused("GET", "/", "10.0.0.1:5000", "no token")).isFalse();

        assertThat(lines.list).hasSize(2);
        ILoggingEvent second = lines.list.get(1);
        assertThat(second.getLevel().toString()).isEqualTo("WARN");
        assertThat(second.getKeyValuePairs()).anyMatch(kv -> kv.key.equals("event") && kv.value.equals("admin.unauthorized"));
        assertThat(second.getKeyValuePairs()).anyMatch(kv -> kv.key.equals("suppressed") && kv.value.equals(1000L));
        assertThat(second.getFormattedMessage()).contains("GET / from 10.0.0.1:5000 (no token)", "1000 more refused");
    }
}
