package io.shieldpool.kinds;

/**
 * What a shielded section does. Called on the worker's event-loop thread; must never block it.
 * {@link #begin} starts one section; the work then ends it exactly once, with
 * {@link ActiveSection#complete()} or {@link ActiveSection#fail(Throwable)}, usually after
 * resuming itself one or more times through {@link ActiveSection#resumeAfter}.
 *
 * <p>A stop request never reaches into a section: it runs to its end once begun. That is the
 * shield. A work may look at {@link ActiveSection#stopRequested()} at its own safe points.
 */
public interface Work {

    /** Starts a section. An exception thrown here fails the section. */
    void begin(ActiveSection section);

    /** A short name for logs and metrics, e.g. "demo". */
    String type();

    /**
     * Steps a section of this work takes when that is known in advance, so status output can say
     * "step i of n"; 0 when it varies or is unknown.
     */
    default int stepsPerSection() {
        return 0;
    }
}
