package io.shieldpool.plugin;

/**
 * A kind of work provided by a plug-in: the service type shieldpool looks up with
 * {@link java.util.ServiceLoader}. Implement one of its two styles, {@link AsyncSectionPlugin} or
 * {@link BlockingSectionPlugin}, not this interface alone.
 *
 * <p>The constructor runs once, at start-up, before any section; an exception thrown from it stops
 * the daemon with a configuration error (exit 78), so check here what can be checked early.
 */
public interface SectionPlugin {

    /**
     * The name that selects this plug-in: {@code shieldpool.work.type = <type>}. Lower-case letters,
     * digits and '-', starting with a letter; not one of the built-in kinds (demo, exec, http). The
     * plug-in's own settings live under {@code shieldpool.work.<type>}.
     *
     * @return this plug-in's type, constant for the life of the instance
     */
    String type();

    /**
     * How many steps a section takes when that is known in advance, so that status output can say
     * "step i of n". A section can still change it with {@link SectionContext#stepsTotal(int)}.
     *
     * @return steps per section, or 0 when it varies or is unknown (the default)
     */
    default int stepsPerSection() {
        return 0;
    }
}
