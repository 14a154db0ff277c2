package io.shieldpool.daemon;

import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Runs the slowest class initialisers of a daemon start on a side thread while the main thread
 * installs the signal traps, reads the config and sets up logging.
 *
 * <p>why: Netty's platform probing (direct-buffer cleaner, memory access checks) and Vert.x's
 * core classes take 40-150 ms to initialise on a cold 2-core machine, and the AOT cache can hold
 * loaded classes but not their static state. Nothing here depends on the config, so it overlaps
 * with work that does. The main thread calls {@link #awaitDone} before it touches Netty itself,
 * so the two never initialise interdependent classes at the same time.
 */
public final class StartupWarmup {

    private static final List<String> CLASSES = List.of(
            "io.netty.util.internal.PlatformDependent",
            "io.vertx.core.impl.VertxImpl",
            "io.vertx.core.transport.Transport",
            "io.vertx.core.dns.impl.DnsAddressResolverProvider");

    private static volatile Thread warmup;

    private StartupWarmup() {
    }

    /**
     * Waits for the warm-up to finish (at most a few seconds; if it takes longer, start-up goes on
     * and the class initialisers serialise themselves). Call before the main thread uses Netty.
     */
    public static void awaitDone() {
        Thread running = warmup;
        if (running == null) {
            return;
        }
        try {
            running.join(java.time.Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the warm-up; returns at once. Failures are ignored: the real start-up reports them. */
    public static void begin() {
        // why: Netty logs through SLF4J from its initialisers; SLF4J must be bound on this thread
        // first, or two threads race to bind it and one of them gets a substitute factory.
        LoggerFactory.getILoggerFactory();
        warmup = Thread.ofPlatform().daemon().name("shieldpool-warmup").start(() -> {
            ClassLoader loader = StartupWarmup.class.getClassLoader();
            for (String name : CLASSES) {
                try {
                    Class.forName(name, true, loader);
                } catch (Throwable ignored) {
                    // why: a missing or failing class shows up, with its real error, when the
                    // daemon itself uses it.
                }
            }
        });
    }
}
