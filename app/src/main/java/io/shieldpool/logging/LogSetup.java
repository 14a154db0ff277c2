package io.shieldpool.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.shieldpool.config.ShieldpoolConfig;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Configures logback in code, from the validated config: no XML to parse at start-up, and one
 * place that decides the format and levels. Our loggers take {@code log.level}; Netty and Vert.x
 * stay at WARN unless asked for more, because their DEBUG output is noise to an operator.
 */
public final class LogSetup {

    private LogSetup() {
    }

    /** Applies format and level; safe to call again (a reload changes the level live). */
    public static void apply(ShieldpoolConfig.Log settings) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        Encoder<ILoggingEvent> encoder = settings.format() == ShieldpoolConfig.LogFormat.JSON
                ? new JsonLineEncoder(JournalStream.isStdout(System.getenv()))
                : new TextLineEncoder(JournalStream.isStdout(System.getenv()));
        install(context, root, encoder);
        setLevel(settings.level());
    }

    /**
     * What starts a line written straight to stderr for an error that stops the program (a config
     * error, a bad command line): {@code <3>} when stderr is the journal, so journald files it at
     * priority err ({@code journalctl -p warning} shows it), else nothing.
     */
    public static String errorPrefix() {
        return JournalStream.isStderr(System.getenv()) ? TextLineEncoder.priority(Level.ERROR_INT) : "";
    }

    /**
     * Loggers outside {@code io.shieldpool} that take {@code log.level} like shieldpool's own: the
     * section loggers of plug-ins, named after the plug-in's class (say {@code com.acme.SyncPlugin}).
     * why: the root logger stays at WARN for libraries, and a plug-in's INFO lines under it were
     * dropped, unless its package happened to start with {@code io.shieldpool}.
     */
    private static final Set<String> FOLLOWERS = new CopyOnWriteArraySet<>();

    /**
     * Makes the named logger take shieldpool's level ({@code log.level}, live on a reload) rather
     * than the libraries' WARN.
     */
    public static void followOwnLevel(String loggerName) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        if (loggerName.equals("io.shieldpool") || loggerName.startsWith("io.shieldpool.")) {
            return;
        }
        FOLLOWERS.add(loggerName);
        context.getLogger(loggerName).setLevel(context.getLogger("io.shieldpool").getEffectiveLevel());
    }

    /** Changes the level of shieldpool's own loggers (and of plug-ins' section loggers), live. */
    public static void setLevel(ShieldpoolConfig.LogLevel level) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Level logbackLevel = Level.toLevel(level.name());
        context.getLogger("io.shieldpool").setLevel(logbackLevel);
        for (String follower : FOLLOWERS) {
            context.getLogger(follower).setLevel(logbackLevel);
        }
        Level thirdParty = logbackLevel.isGreaterOrEqual(Level.WARN) ? logbackLevel : Level.WARN;
        context.getLogger("io.netty").setLevel(thirdParty);
        context.getLogger("io.vertx").setLevel(thirdParty);
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(thirdParty);
    }

    static void install(LoggerContext context, Logger root, Encoder<ILoggingEvent> encoder) {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        // Each line reaches stdout as it is logged: nothing waits in logback at exit (see flush()).
        appender.setImmediateFlush(true);
        appender.setName("stdout");
        encoder.setContext(context);
        encoder.start();
        appender.setEncoder(encoder);
        appender.start();
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
    }

    /**
     * Makes sure every line logged so far has been written; call last, just before the process
     * halts. why not {@code LoggerContext.stop()}: our only appender writes each line through at
     * once, so there is nothing to drain, and stopping the context cost 0.5-1.3 ms of the time
     * between the last section and the exit.
     */
    public static void flush() {
        System.out.flush();
    }
}
