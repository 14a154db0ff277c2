package io.shieldpool.plugin;

/**
 * A plug-in in the blocking style: a section is plain sequential code on a virtual thread.
 *
 * <p>{@link #runSection} runs on a Vert.x virtual-thread context (Vert.x's
 * {@code ThreadingModel.VIRTUAL_THREAD}), one context per section running at the same time, so it may
 * block ({@code Thread.sleep}, JDBC, {@code java.net.http}) and may wait for any Vert.x future with
 * {@link io.vertx.core.Future#await()}: {@code for (var step : steps) { client.send(step).await(); }}.
 * The section completes when the method returns, and fails when it throws.
 *
 * <p>With {@code shieldpool.work.timeout} set, a section still running at its limit has its
 * virtual thread interrupted: blocking calls and {@code await()} then throw, and the method should
 * return promptly. The section ends as {@code timed_out} only when the method has returned
 * (whatever it returns or throws), never before: until then its worker starts no other section and
 * a shutdown waits for it like any section in flight, so code that ignores the interrupt keeps its
 * worker busy, and if it is still running at the grace cap it is reported as {@code abandoned}.
 * {@link SectionContext#timedOut()} turns true at the limit, for code that polls instead of
 * blocking.
 */
public interface BlockingSectionPlugin extends SectionPlugin {

    /**
     * Runs one section, blocking as long as it needs.
     *
     * @param section this section's context: ids, settings, progress reporting, logger, Vert.x
     * @throws Exception anything thrown fails the section (after a timeout, whatever it throws or
     *                   returns, the section is {@code timed_out})
     */
    void runSection(SectionContext section) throws Exception;
}
