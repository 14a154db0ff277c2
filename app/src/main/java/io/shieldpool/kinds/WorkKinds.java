package io.shieldpool.kinds;

import io.shieldpool.config.ConfigAdvice;
import io.shieldpool.config.ConfigReader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.config.WorkTypes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Every work kind the daemon has, found one way: {@link ServiceLoader} of {@link WorkKind} (the
 * built-in demo, exec and http kinds and the plug-in kind, listed in this jar). The registry is all
 * that the configuration, the start-up and check-config know of kinds: none of them names one.
 */
public final class WorkKinds implements WorkTypes {

    private final List<WorkKind> named = new ArrayList<>();
    private final List<WorkKind> others = new ArrayList<>();

    /** @param kinds every kind; those that answer for other types come after the named ones */
    public WorkKinds(List<WorkKind> kinds) {
        for (WorkKind kind : kinds) {
            (kind.answersForOtherTypes() ? others : named).add(kind);
        }
    }

    /** The kinds on this class's class path. */
    public static WorkKinds discover() {
        List<WorkKind> kinds = new ArrayList<>();
        ServiceLoader.load(WorkKind.class, WorkKinds.class.getClassLoader()).forEach(kinds::add);
        return new WorkKinds(kinds);
    }

    @Override
    public Optional<String> recognise(String written) {
        String lower = written.toLowerCase(Locale.ROOT);
        for (WorkKind kind : named) {
            if (kind.name().equals(lower)) {
                return Optional.of(lower);
            }
        }
        return others.stream().anyMatch(k -> k.answersFor(written)) ? Optional.of(written) : Optional.empty();
    }

    @Override
    public String expected() {
        List<String> words = new ArrayList<>(builtIn());
        others.forEach(k -> words.add("or " + k.describe()));
        return String.join(", ", words);
    }

    @Override
    public Map<String, KindSettings> read(String type, ConfigReader reader) {
        Map<String, KindSettings> settings = new LinkedHashMap<>();
        for (WorkKind kind : named) {
            settings.put(kind.name(), kind.readSettings(reader, kind.name(), kind.name().equals(type)));
        }
        WorkKind running = kindFor(type);
        if (!named.contains(running)) {
            settings.put(type, running.readSettings(reader, type, true));
        }
        return settings;
    }

    @Override
    public List<String> operatorNamedKeys(String type) {
        List<String> prefixes = new ArrayList<>();
        named.forEach(k -> prefixes.addAll(k.operatorNamedKeys(type)));
        others.forEach(k -> prefixes.addAll(k.operatorNamedKeys(type)));
        return prefixes;
    }

    /** Check-config's advice: the running kind's, then what holds for every kind. */
    public List<String> advice(ShieldpoolConfig config) {
        List<String> warnings = new ArrayList<>(kindFor(config.work().type()).advice(config));
        warnings.addAll(ConfigAdvice.warnings(config));
        return warnings;
    }

    /**
     * Runs the configured kind's preflight (the daemon and check-config alike).
     *
     * @throws InvalidConfigException naming work.type, when the kind cannot run here
     */
    public PreparedKind preflight(EffectiveConfig config) throws InvalidConfigException {
        return kindFor(config.config().work().type()).preflight(config, builtIn());
    }

    private List<String> builtIn() {
        return named.stream().map(WorkKind::name).toList();
    }

    private WorkKind kindFor(String type) {
        for (WorkKind kind : named) {
            if (kind.name().equals(type)) {
                return kind;
            }
        }
        return others.stream().filter(k -> k.answersFor(type)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no work kind answers for " + type));
    }
}
