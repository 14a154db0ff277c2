package io.shieldpool.signals;

import java.util.function.Consumer;

/** Where signals come from, by name ("TERM", "INT", "HUP"...). The real one is {@link SignalTrap}. */
@FunctionalInterface
public interface SignalSource {

    /**
     * Delivers every signal, including those received before this call, to {@code sink}; with
     * {@code null}, signals are queued again until the next call.
     */
    void attach(Consumer<String> sink);

    /**
     * Signals that were ignored when the JVM started (a disposition the process inherited), which
     * therefore cannot be trapped: the JVM never sees them. By name, in the order asked for.
     */
    default java.util.List<String> ignoredAtStart() {
        return java.util.List.of();
    }
}
