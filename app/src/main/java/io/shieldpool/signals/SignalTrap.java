package io.shieldpool.signals;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Traps process signals and hands them, by name ("TERM", "INT", ...), to one sink. The handler
 * only records: it queues the name and pokes the sink, which must merely schedule the real work on
 * its own context (gunicorn's rule: no logging, no work in a signal handler). Signals that arrive
 * before a sink is attached, during start-up, are kept and delivered in order on attach, so a
 * SIGTERM during start-up is never lost.
 */
public final class SignalTrap implements SignalSource {

    private static final Logger log = LoggerFactory.getLogger(SignalTrap.class);

    private final ConcurrentLinkedQueue<String> pending = new ConcurrentLinkedQueue<>();
    private final List<String> installed = new ArrayList<>();
    private final List<String> ignoredAtStart = new ArrayList<>();
    private volatile Consumer<String> sink;

    private SignalTrap() {
    }

    /**
     * Installs handlers for the named signals. A signal that cannot be trapped (refused by the
     * JVM, or ignored when the process started) is left alone and listed by {@link #untrapped}.
     */
    public static SignalTrap install(List<String> names) {
        SignalTrap trap = new SignalTrap();
        for (String name : names) {
            try {
                SignalHandler previous = Signal.handle(new Signal(name), trap::record);
                // why: a signal ignored at exec (SIGINT of a background job) stays ignored; the
                // JVM reports that by returning SIG_IGN and we must put it back as it was.
                if (previous == SignalHandler.SIG_IGN) {
                    Signal.handle(new Signal(name), SignalHandler.SIG_IGN);
                    trap.ignoredAtStart.add(name);
                    continue;
                }
                trap.installed.add(name);
            } catch (IllegalArgumentException refused) {
                // left untrapped; reported through untrapped()
            }
        }
        return trap;
    }

    /** Names of the requested signals this trap could not install. */
    public List<String> untrapped(List<String> requested) {
        return requested.stream().filter(n -> !installed.contains(n)).toList();
    }

    @Override
    public List<String> ignoredAtStart() {
        return List.copyOf(ignoredAtStart);
    }

    private void record(Signal signal) {
        pending.add(signal.getName());
        deliver();
    }

    /** Attaches the sink and delivers any signal that arrived before it. */
    @Override
    public void attach(Consumer<String> newSink) {
        synchronized (this) {
            this.sink = newSink;
        }
        deliver();
    }

    /**
     * why synchronized: the JVM runs each signal's handler on a thread of its own, so two signals
     * close together would otherwise be handed over in either order; and once {@link #attach} has
     * replaced the sink, no thread is still handing a signal to the old one (a closing event loop).
     */
    private synchronized void deliver() {
        Consumer<String> target = sink;
        if (target == null) {
            return;
        }
        String name;
        while ((name = pending.poll()) != null) {
            try {
                target.accept(name);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                log.debug("signal {} not handed over: the event loop is closing", name);
            } catch (RuntimeException e) {
                log.warn("signal {} could not be handed to the supervisor: {}", name, e.toString());
            }
        }
    }
}
