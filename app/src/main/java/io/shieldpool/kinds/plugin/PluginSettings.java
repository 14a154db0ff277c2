package io.shieldpool.kinds.plugin;

import com.typesafe.config.Config;
import io.shieldpool.config.KindSettings;

import java.util.Objects;

/**
 * A plug-in's settings: its subtree {@code shieldpool.work.<type>} as written, for the plug-in
 * itself to read (shieldpool only hands them over).
 *
 * @param config the subtree; empty when absent
 */
public record PluginSettings(Config config) implements KindSettings {

    public PluginSettings {
        Objects.requireNonNull(config);
    }
}
