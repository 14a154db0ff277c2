package io.shieldpool.control;

import io.shieldpool.view.LifecycleState;

import java.util.concurrent.atomic.AtomicReference;

/**
 * An explicit, thread-safe state machine over {@link LifecycleState}. Transitions only go
 * forward; asking for the current state again is a no-op (stopping twice is harmless), and
 * asking to go back throws, because that is a bug in the caller, never an operator's mistake.
 */
final class Lifecycle {

    private final AtomicReference<LifecycleState> state = new AtomicReference<>(LifecycleState.STARTING);

    LifecycleState state() {
        return state.get();
    }

    boolean is(LifecycleState expected) {
        return state.get() == expected;
    }

    /**
     * Moves to {@code target}.
     *
     * @return true if this call made the transition, false if already in {@code target}
     * @throws IllegalStateException if {@code target} lies before the current state
     */
    boolean goTo(LifecycleState target) {
        while (true) {
            LifecycleState current = state.get();
            if (current == target) {
                return false;
            }
            if (target.ordinal() < current.ordinal()) {
                throw new IllegalStateException("illegal lifecycle transition " + current.label()
                        + " -> " + target.label() + " (states only move forward: starting, running, draining, cutting, stopped)");
            }
            if (state.compareAndSet(current, target)) {
                return true;
            }
        }
    }

    /**
     * Moves from {@code from} to {@code to} only if the state is {@code from} now: the guard of a
     * transition that must happen exactly once (a cut).
     *
     * @return true if this call made the transition
     */
    boolean advance(LifecycleState from, LifecycleState to) {
        if (to.ordinal() <= from.ordinal()) {
            throw new IllegalArgumentException("illegal lifecycle transition " + from.label() + " -> " + to.label());
        }
        return state.compareAndSet(from, to);
    }

    /** True once a stop has been asked for: draining, cutting or stopped. */
    boolean isStopping() {
        return state.get().ordinal() >= LifecycleState.DRAINING.ordinal();
    }

    @Override
    public String toString() {
        return state.get().label();
    }
}
