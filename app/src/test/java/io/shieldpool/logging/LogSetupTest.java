package io.shieldpool.logging;

import io.shieldpool.config.ShieldpoolConfig.LogLevel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/** A plug-in's section logger, outside io.shieldpool, takes log.level, not the libraries' WARN. */
class LogSetupTest {

    @AfterEach
    void restore() {
        LogSetup.setLevel(LogLevel.INFO);
    }

    @Test
    void aPluginLoggerOutsideOurPackageTakesLogLevelLive() {
        LogSetup.setLevel(LogLevel.INFO);
        org.slf4j.Logger plugin = LoggerFactory.getLogger("com.acme.SyncPlugin");
        org.slf4j.Logger library = LoggerFactory.getLogger("com.acme.internal.HttpClient");
        assertThat(plugin.isInfoEnabled()).as("before it follows: the root's WARN").isFalse();

        LogSetup.followOwnLevel("com.acme.SyncPlugin");
        assertThat(plugin.isInfoEnabled()).isTrue();
        assertThat(plugin.isDebugEnabled()).isFalse();
        assertThat(library.isInfoEnabled()).as("other loggers keep the libraries' WARN").isFalse();

        LogSetup.setLevel(LogLevel.DEBUG);
        assertThat(plugin.isDebugEnabled()).as("a reload to debug").isTrue();
        assertThat(library.isDebugEnabled()).isFalse();

        LogSetup.setLevel(LogLevel.ERROR);
        assertThat(plugin.isWarnEnabled()).as("a reload to error").isFalse();
        assertThat(plugin.isErrorEnabled()).isTrue();
    }
}
