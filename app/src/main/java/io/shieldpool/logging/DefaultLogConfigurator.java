package io.shieldpool.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's first configuration, found through ServiceLoader before any config file is read:
 * text lines at INFO for us, WARN for libraries. Without it logback would log everything at DEBUG
 * and Netty would print stack traces about optional features. {@link LogSetup} replaces it once
 * the config is known.
 */
public final class DefaultLogConfigurator extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        LogSetup.install(context, root, new TextLineEncoder(JournalStream.isStdout(System.getenv())));
        root.setLevel(Level.WARN);
        context.getLogger("io.shieldpool").setLevel(Level.INFO);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
