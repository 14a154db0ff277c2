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
 * <p>With {@code shieldpool.work.timeout} set, a section still running at its limit ends as
 * {@code timed_out} and its virtual thread is interrupted: blocking calls and {@code await()} then
 * throw, and the method should return promptly. Its worker starts no other section on that context
 * until the method has returned.
 */
public interface BlockingSectionPlugin extends SectionPlugin {

    /**
     * Runs one section, blocking as long as it needs.
     *
     * @param section this section's context: ids, settings, progress reporting, logger, Vert.x
     * @throws Exception anything thrown fails the section (an interruption after a timeout makes it
     *                   {@code timed_out} instead)
     */
    void runSection(SectionContext section) throws Exception;
}
