package io.shieldpool.work;

import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.plugin.SectionPlugin;
import io.shieldpool.work.exec.ExecSupport;
import io.shieldpool.work.plugin.PluginLoader;

import java.util.List;
import java.util.Optional;

/**
 * What the configured work needs beyond valid keys, checked before anything starts (by the daemon
 * and by check-config alike): the plug-in that work.type names must load, and the exec kind needs
 * setsid. A failure is a configuration problem: one line, exit 78.
 */
public final class WorkPreflight {

    private WorkPreflight() {
    }

    /**
     * @return the plug-in to run, when work.type names one
     * @throws InvalidConfigException naming work.type, when the work cannot run here
     */
    public static Optional<SectionPlugin> check(EffectiveConfig effective) throws InvalidConfigException {
        if (effective.config().work().type().equals("exec") && ExecSupport.setsid().isEmpty()) {
            EffectiveConfig.Entry entry = effective.entries().get("shieldpool.work.type");
            throw new InvalidConfigException(List.of(new ConfigProblem("shieldpool.work.type", "exec",
                    "the setsid program (util-linux) on PATH, to give each command its own process group",
                    entry == null ? null : entry.origin())));
        }
        return PluginLoader.forConfig(effective);
    }
}
