package io.shieldpool.config;

/** Reads the configuration again from the sources the daemon started with (a reload). */
@FunctionalInterface
public interface ConfigSource {

    /** Reads and validates; may block on file I/O, so call it off the event loops. */
    EffectiveConfig load() throws InvalidConfigException;
}
