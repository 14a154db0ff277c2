package io.shieldpool.signals;

import java.util.function.Consumer;

/** Where signals come from, by name ("TERM", "INT", "HUP"...). The real one is {@link SignalTrap}. */
@FunctionalInterface
public interface SignalSource {

    /** Delivers every signal, including those received before this call, to {@code sink}. */
    void attach(Consumer<String> sink);
}
