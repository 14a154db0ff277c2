package io.shieldpool.plugin;

import io.vertx.core.Future;

/**
 * A plug-in in the asynchronous style: a section is a Vert.x {@link Future}.
 *
 * <p>{@link #runSection} is called on the worker's event-loop thread and must never block it: use
 * Vert.x's non-blocking APIs ({@link SectionContext#vertx()}) and compose their futures. The section
 * ends when the returned future completes: succeeded means completed, failed means failed (the
 * worker then backs off). Callbacks of futures created on that thread run on it too, so a section
 * needs no locks. Many workers share one event loop, which is why this style scales to very many
 * concurrent sections.
 *
 * <p>With {@code shieldpool.work.timeout} set, a section whose future has not completed in time ends
 * as {@code timed_out}; its future is then ignored (and {@link SectionContext#timedOut()} turns true,
 * so a long chain can stop early).
 */
public interface AsyncSectionPlugin extends SectionPlugin {

    /**
     * Runs one section.
     *
     * @param section this section's context: ids, settings, progress reporting, logger, Vert.x
     * @return a future completing when the section ends; never null. An exception thrown instead of
     *         returning fails the section.
     */
    Future<?> runSection(SectionContext section);
}
