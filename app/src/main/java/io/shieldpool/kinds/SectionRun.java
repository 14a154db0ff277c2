package io.shieldpool.kinds;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.time.Duration;

/**
 * One section of a work that runs outside the worker's own continuations (a plug-in, a child
 * process, an HTTP request): it ends its {@link ActiveSection} exactly once, on the worker's
 * thread, and enforces {@code work.timeout}. Needed because the {@link ActiveSection} is the worker
 * itself, reused for its next section: a late answer from a section that already timed out must not
 * end the next one. These kinds allocate one of these per section; the demo work does not need it.
 *
 * <p>All methods but {@link #onHome} run on the worker's thread.
 */
public abstract class SectionRun {

    /** The worker's view of this section; only valid until this run has ended. */
    protected final ActiveSection section;
    /** The worker's event-loop context, where the section must be ended. */
    protected final Context home;
    protected final Vertx vertx;
    private final long timeoutMs;
    private boolean ended;
    private long timerId = -1;

    protected SectionRun(ActiveSection section, Context home, Vertx vertx, Duration timeout) {
        this.section = section;
        this.home = home;
        this.vertx = vertx;
        this.timeoutMs = timeout.toMillis();
    }

    /** Arms the timeout, if any; call once, from {@link Work#begin}. */
    protected final void armTimeout() {
        if (timeoutMs > 0) {
            timerId = vertx.setTimer(timeoutMs, id -> {
                timerId = -1;
                if (!ended) {
                    onTimeout("work.timeout of " + timeoutMs + " ms passed");
                }
            });
        }
    }

    /**
     * The section reached its time limit and has not ended. By default it ends now as timed out;
     * a kind that must first stop something (a child process) overrides this and calls
     * {@link #timedOut} once it has.
     */
    protected void onTimeout(String reason) {
        timedOut(reason);
    }

    /** Whether this section has ended (whatever the outcome). */
    protected final boolean ended() {
        return ended;
    }

    protected final void completed() {
        if (end()) {
            section.complete();
        }
    }

    protected final void failed(Throwable cause) {
        if (end()) {
            section.fail(cause);
        }
    }

    protected final void timedOut(String reason) {
        if (end()) {
            section.timeOut(reason);
        }
    }

    private boolean end() {
        if (ended) {
            return false;
        }
        ended = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
            timerId = -1;
        }
        return true;
    }

    /** Runs {@code action} on the worker's thread: now if already there, else queued to it. Any thread. */
    protected final void onHome(Runnable action) {
        if (Vertx.currentContext() == home) {
            action.run();
        } else {
            home.runOnContext(v -> action.run());
        }
    }
}
