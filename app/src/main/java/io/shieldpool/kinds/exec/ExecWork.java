package io.shieldpool.kinds.exec;

import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Work;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Optional;

/**
 * The exec kind: each section runs {@code work.exec.command} once and waits for it; exit status 0
 * completes the section, anything else fails it.
 */
final class ExecWork implements Work {

    private final ExecSettings settings;
    private final Duration timeout;
    private final Vertx vertx;
    private final Children children;
    private final CommandThreads threads;

    /**
     * @param settings the exec keys
     * @param timeout  work.timeout (zero: none)
     * @param vertx    the daemon's Vert.x
     * @param children every command running, shared across reloads
     * @param threads  the threads that run the commands, shared across reloads
     */
    ExecWork(ExecSettings settings, Duration timeout, Vertx vertx, Children children, CommandThreads threads) {
        this.settings = settings;
        this.timeout = timeout;
        this.vertx = vertx;
        this.children = children;
        this.threads = threads;
    }

    /**
     * Whether this system can run the exec kind: the C library must have every function
     * {@link SessionSpawn} calls (glibc 2.34 or newer). Loads them now, so that a missing one is a
     * start-up error rather than a failure of each section.
     *
     * @return what is missing, in one line; empty when exec can run here
     */
    static Optional<String> platformProblem() {
        return platformProblem(SessionSpawn::load);
    }

    static Optional<String> platformProblem(Runnable load) {
        try {
            load.run();
            return Optional.empty();
        } catch (LinkageError e) {
            // The first touch sees the initializer's own error; a later one a NoClassDefFoundError
            // whose cause chain holds it.
            Throwable cause = e;
            while (!(cause instanceof UnsatisfiedLinkError) && cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
            return Optional.of(message.lines().findFirst().orElse(message));
        }
    }

    @Override
    public String type() {
        return "exec";
    }

    @Override
    public void begin(ActiveSection section) {
        new ExecRun(section, vertx.getOrCreateContext(), vertx, timeout, settings, children, SessionSpawn.SPAWNER,
                threads).start();
    }
}
