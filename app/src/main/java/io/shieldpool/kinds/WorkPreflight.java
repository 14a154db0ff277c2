package io.shieldpool.kinds;

import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.plugin.SectionPlugin;
import io.shieldpool.kinds.exec.ExecWork;
import io.shieldpool.kinds.plugin.PluginLoader;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the configured work needs beyond valid keys, checked before anything starts, by the daemon
 * and by check-config alike: the plug-in that work.type names must load, and exec needs a C library
 * with the functions it calls. A failure is a configuration problem: one line, exit 78.
 */
public final class WorkPreflight {

    private static final String TYPE_KEY = "shieldpool.work.type";

    private WorkPreflight() {
    }

    /**
     * @return the plug-in to run, when work.type names one
     * @throws InvalidConfigException naming work.type, when the work cannot run here
     */
    public static Optional<SectionPlugin> check(EffectiveConfig effective) throws InvalidConfigException {
        return check(effective, ExecWork::platformProblem);
    }

    static Optional<SectionPlugin> check(EffectiveConfig effective, Supplier<Optional<String>> execPlatformProblem)
            throws InvalidConfigException {
        if (effective.config().work().type().equals("exec")) {
            Optional<String> problem = execPlatformProblem.get();
            if (problem.isPresent()) {
                EffectiveConfig.Entry entry = effective.entries().get(TYPE_KEY);
                throw new InvalidConfigException(List.of(new ConfigProblem(TYPE_KEY, "exec",
                        "a kind this system can run; " + problem.get(), entry == null ? null : entry.origin())));
            }
        }
        return PluginLoader.forConfig(effective);
    }
}
