package io.shieldpool.kinds;

/**
 * The next piece of a section, run on the worker's thread after a delay. Works implement it
 * once and reuse the instance across sections: the per-section state lives in the
 * {@link ActiveSection}, so a step allocates nothing.
 */
@FunctionalInterface
public interface Continuation {

    /** Runs the next piece. An exception thrown here fails the section. */
    void resume(ActiveSection section);
}
