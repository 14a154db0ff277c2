package io.shieldpool.kinds.plugin;

import io.shieldpool.config.ConfigReader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.kinds.PreparedKind;
import io.shieldpool.kinds.Work;
import io.shieldpool.kinds.WorkKind;
import io.shieldpool.plugin.SectionPlugin;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The plug-in kind: any other well-formed {@code work.type} names a plug-in (the public API in
 * {@code io.shieldpool.plugin}), found by {@link PluginLoader} on the classpath and in
 * {@code work.plugin-directory}.
 */
public final class PluginKind implements WorkKind {

    /** What a plug-in's type must look like: it names the subtree shieldpool.work.TYPE too. */
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9-]{0,62}");

    /** Keys directly under shieldpool.work that cannot be a plug-in's type. */
    private static final Set<String> RESERVED = Set.of("type", "timeout", "plugin-directory");

    @Override
    public String name() {
        return "plugin";
    }

    @Override
    public boolean answersFor(String type) {
        return TYPE.matcher(type).matches() && !RESERVED.contains(type);
    }

    @Override
    public boolean answersForOtherTypes() {
        return true;
    }

    @Override
    public String describe() {
        return "a plug-in's type (lower-case letters, digits and '-')";
    }

    @Override
    public KindSettings readSettings(ConfigReader reader, String type, boolean running) {
        return new PluginSettings(reader.subtree("shieldpool.work." + type,
                "an object holding the " + type + " plug-in's settings"));
    }

    /** A plug-in's settings are its own to check: every key of its subtree is the operator's. */
    @Override
    public List<String> operatorNamedKeys(String type) {
        return answersFor(type) ? List.of("shieldpool.work." + type + ".") : List.of();
    }

    @Override
    public PreparedKind preflight(EffectiveConfig config, List<String> builtIn) throws InvalidConfigException {
        ShieldpoolConfig.Work work = config.config().work();
        EffectiveConfig.Entry entry = config.entries().get("shieldpool.work.type");
        SectionPlugin plugin = PluginLoader.load(work.type(), work.pluginDirectory(),
                entry == null ? null : entry.origin(), builtIn);
        return vertx -> {
            PluginWork.Factory factory = new PluginWork.Factory(plugin, vertx);
            return new KindRuntime() {
                @Override
                public Work create(ShieldpoolConfig c) {
                    return factory.create(((PluginSettings) c.work().settings()).config(), c.work().timeout());
                }
            };
        };
    }
}
