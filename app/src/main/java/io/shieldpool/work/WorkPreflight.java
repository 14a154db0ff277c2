package io.shieldpool.work;

import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.plugin.SectionPlugin;
import io.shieldpool.work.plugin.PluginLoader;

import java.util.Optional;

/**
 * What the configured work needs beyond valid keys, checked before anything starts, by the daemon
 * and by check-config alike: the plug-in that work.type names must load. A failure is a
 * configuration problem: one line, exit 78.
 */
public final class WorkPreflight {

    private WorkPreflight() {
    }

    /**
     * @return the plug-in to run, when work.type names one
     * @throws InvalidConfigException naming work.type, when the work cannot run here
     */
    public static Optional<SectionPlugin> check(EffectiveConfig effective) throws InvalidConfigException {
        return PluginLoader.forConfig(effective);
    }
}
