package io.shieldpool.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Reads the configuration from its four layers and validates it into a {@link ShieldpoolConfig}.
 * Precedence, lowest first: reference.conf in the jar, the operator's file, environment overrides
 * ({@code CONFIG_FORCE_shieldpool_pool_size}), then {@code -Dshieldpool...} system properties.
 * Every problem is collected, so an operator fixes a file in one pass, not one error per restart.
 */
public final class ConfigLoader {

    static final String ROOT = "shieldpool";

    private final Config environment;
    private final Properties systemProperties;
    private final WorkTypes workTypes;

    /** A loader reading the real process environment and system properties. */
    public static ConfigLoader forThisProcess(WorkTypes workTypes) {
        return new ConfigLoader(ConfigFactory.systemEnvironmentOverrides(), System.getProperties(), workTypes);
    }

    /**
     * A loader with explicit override layers (tests, check-config).
     *
     * @param workTypes the work kinds, which read their own settings
     */
    public ConfigLoader(Config environment, Properties systemProperties, WorkTypes workTypes) {
        this.environment = environment;
        this.systemProperties = systemProperties;
        this.workTypes = workTypes;
    }

    /**
     * Loads and validates.
     *
     * @param file the operator's file; when present it must exist and parse
     * @throws InvalidConfigException with every problem found
     */
    public ShieldpoolConfig load(Optional<Path> file) throws InvalidConfigException {
        return Validator.validate(file, merged(file), workTypes);
    }

    /** Loads and validates, keeping each key's value and origin (check-config, reload diffs, logs). */
    public EffectiveConfig loadEffective(Optional<Path> file) throws InvalidConfigException {
        Config merged = merged(file);
        ShieldpoolConfig config = Validator.validate(file, merged, workTypes);
        return EffectiveConfig.of(config, merged, workTypes.operatorNamedKeys(config.work().type()));
    }

    /** The merged, resolved layers before validation (check-config prints their origins). */
    public Config merged(Optional<Path> file) throws InvalidConfigException {
        if (file.isPresent() && !Files.isRegularFile(file.get())) {
            throw new InvalidConfigException(List.of(ConfigProblem.general(file.get()
                    + ": cannot read the config file: " + (Files.exists(file.get()) ? "not a regular file" : "no such file"))));
        }
        try {
            Config fromFile = file.map(ConfigLoader::parseFile).orElse(ConfigFactory.empty());
            return shieldpoolProperties()
                    .withFallback(environment)
                    .withFallback(fromFile)
                    .withFallback(ConfigFactory.defaultReference())
                    .resolve();
        } catch (ConfigException e) {
            throw new InvalidConfigException(List.of(problemFrom(e, file)));
        }
    }

    private static Config parseFile(Path path) {
        // why: parseFile would silently return an empty config for a missing file.
        return ConfigFactory.parseFile(path.toFile(),
                ConfigParseOptions.defaults().setAllowMissing(false).setSyntax(ConfigSyntax.CONF));
    }

    private Config shieldpoolProperties() {
        // why: only our own keys; the JVM's properties are none of the config's business.
        Properties ours = new Properties();
        for (Map.Entry<Object, Object> e : systemProperties.entrySet()) {
            if (e.getKey() instanceof String key && (key.equals(ROOT) || key.startsWith(ROOT + "."))) {
                ours.put(key, e.getValue());
            }
        }
        return ConfigFactory.parseProperties(ours,
                ConfigParseOptions.defaults().setOriginDescription("system properties"));
    }

    private static ConfigProblem problemFrom(ConfigException e, Optional<Path> file) {
        String path = file.map(Path::toString).orElse("configuration");
        // Typesafe messages already start with "file: line: "; keep them, they name the place.
        return ConfigProblem.general(e.origin() == null ? path + ": " + e.getMessage() : e.getMessage());
    }

}
