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
 * with work that does. A class initialiser runs once whichever thread gets there first; if the
 * main thread needs a class before the side thread is done, it simply waits for that one.
 */
public final class StartupWarmup {

    private static final List<String> CLASSES = List.of(
            "io.netty.util.internal.PlatformDependent",
            "io.vertx.core.impl.VertxImpl",
            "io.vertx.core.transport.Transport",
            "io.vertx.core.dns.impl.DnsAddressResolverProvider");

    private StartupWarmup() {
    }

    /** Starts the warm-up; returns at once. Failures are ignored: the real start-up reports them. */
    public static void begin() {
        // why: Netty logs through SLF4J from its initialisers; SLF4J must be bound on this thread
        // first, or two threads race to bind it and one of them gets a substitute factory.
        LoggerFactory.getILoggerFactory();
        Thread.ofPlatform().daemon().name("shieldpool-warmup").start(() -> {
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
