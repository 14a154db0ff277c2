/**
 * The plug-in API: how a Java developer puts their own work inside shieldpool's shield.
 *
 * <p>A plug-in is a class implementing {@link io.shieldpool.plugin.AsyncSectionPlugin} or
 * {@link io.shieldpool.plugin.BlockingSectionPlugin}, with a public no-argument constructor, listed in
 * {@code META-INF/services/io.shieldpool.plugin.SectionPlugin} of its jar. shieldpool finds it with
 * {@link java.util.ServiceLoader} on its classpath and in the jars of
 * {@code shieldpool.work.plugin-directory}, and runs it when {@code shieldpool.work.type} equals its
 * {@link io.shieldpool.plugin.SectionPlugin#type()}. To learn each type, every provider found is
 * instantiated once at start-up (and by {@code shieldpool check-config}), so keep constructors
 * cheap and free of side effects. One instance serves every worker, so it must be safe to use from
 * several threads; per-section state belongs in local variables.
 *
 * <p>The guarantees are those of every kind of work: once a section has begun it runs to its end,
 * whatever stop request arrives meanwhile (a section may choose to end early at a safe point, see
 * {@link io.shieldpool.plugin.SectionContext#stopRequested()}); only the grace cap of a shutdown, or
 * {@code shieldpool.work.timeout}, cuts it. A section that throws, or whose future fails, is counted
 * as failed and its worker backs off before its next section.
 *
 * <p>This package and the daemon's entry point are shieldpool's only public API; everything else
 * may change without notice.
 */
package io.shieldpool.plugin;
