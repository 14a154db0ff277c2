package io.shieldpool.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Typed reads of the merged configuration that collect problems instead of stopping at the first:
 * each read that fails records a {@link ConfigProblem} naming the key, the value as written, what
 * was expected and where it was written, and returns a harmless placeholder, so one pass reports
 * everything. Keys are full ({@code shieldpool.pool.size}). Used by the core reader and by each
 * work kind for its own subtree; start-up, reload and check-config all read through it.
 */
public final class ConfigReader {

    private final Config config;
    private final List<ConfigProblem> problems = new ArrayList<>();

    ConfigReader(Config config) {
        this.config = config;
    }

    /** Problems found so far. */
    List<ConfigProblem> problems() {
        return problems;
    }

    /**
     * An integer that passes {@code rule}. Only whole numbers are taken: 2.5 is refused, never
     * truncated (Typesafe's getInt would give 2), and a string (an environment override) must
     * spell a whole number.
     */
    public int integer(Rule<Integer> rule) {
        OptionalLong whole = wholeNumber(rule.key());
        if (whole.isPresent() && whole.getAsLong() >= Integer.MIN_VALUE && whole.getAsLong() <= Integer.MAX_VALUE
                && rule.accepts().test((int) whole.getAsLong())) {
            return (int) whole.getAsLong();
        }
        problem(rule.key(), rule.expected());
        return rule.placeholder();
    }

    /**
     * {@code word} (any case, as written: {@code auto}), read as empty, or else an integer that
     * passes {@code rule}, whose expectation names the word too.
     */
    public java.util.OptionalInt integerOrWord(Rule<Integer> rule, String word) {
        ConfigValue value = valueOrNull(rule.key());
        if (value != null && value.unwrapped() instanceof String text && text.trim().equalsIgnoreCase(word)) {
            return java.util.OptionalInt.empty();
        }
        return java.util.OptionalInt.of(integer(rule));
    }

    private OptionalLong wholeNumber(String key) {
        ConfigValue value = valueOrNull(key);
        if (value == null) {
            return OptionalLong.empty();
        }
        Object raw = value.unwrapped();
        if (raw instanceof Integer || raw instanceof Long) {
            return OptionalLong.of(((Number) raw).longValue());
        }
        if (raw instanceof Double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e18 ? OptionalLong.of(d.longValue()) : OptionalLong.empty();
        }
        if (raw instanceof String text && text.trim().matches("[+-]?[0-9]{1,18}")) {
            return OptionalLong.of(Long.parseLong(text.trim()));
        }
        return OptionalLong.empty();
    }

    /** A duration that passes {@code rule}. */
    public Duration duration(Rule<Duration> rule) {
        try {
            Duration value = config.getDuration(rule.key());
            if (rule.accepts().test(value)) {
                return value;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(rule.key(), rule.expected());
        return rule.placeholder();
    }

    /** A finite number that passes {@code rule}. */
    public double number(Rule<Double> rule) {
        try {
            double value = config.getDouble(rule.key());
            if (Double.isFinite(value) && rule.accepts().test(value)) {
                return value;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(rule.key(), rule.expected());
        return rule.placeholder();
    }

    public boolean bool(String key) {
        try {
            return config.getBoolean(key);
        } catch (ConfigException e) {
            problem(key, "true or false");
            return false;
        }
    }

    public String string(String key) {
        try {
            return config.getString(key);
        } catch (ConfigException e) {
            problem(key, "a string");
            return "";
        }
    }

    /** One of {@code allowed} (compared in lower case); returned in lower case. */
    public String oneOf(String key, Set<String> allowed, String placeholder) {
        try {
            String value = config.getString(key).toLowerCase(Locale.ROOT);
            if (allowed.contains(value)) {
                return value;
            }
        } catch (ConfigException ignored) {
            // reported below
        }
        problem(key, "one of " + String.join(", ", new TreeSet<>(allowed)));
        return placeholder;
    }

    /** A list of strings (numbers and booleans taken as written). */
    public List<String> stringList(String key, String expected) {
        try {
            List<? extends ConfigValue> list = listOrListInString(key);
            List<String> strings = new ArrayList<>(list.size());
            for (ConfigValue item : list) {
                ConfigValueType type = item.valueType();
                if (type != ConfigValueType.STRING && type != ConfigValueType.NUMBER && type != ConfigValueType.BOOLEAN) {
                    problem(key, expected);
                    return List.of();
                }
                strings.add(String.valueOf(item.unwrapped()));
            }
            return strings;
        } catch (ConfigException e) {
            ConfigValue value = valueOrNull(key);
            problem(key, value != null && value.valueType() == ConfigValueType.STRING
                    ? expected + "; from the environment write the list as the variable's value, such as "
                            + environmentName(key) + "='[\"/bin/echo\",\"x\"]'"
                    : expected);
            return List.of();
        }
    }

    /** The environment variable that sets {@code key}: '.' -> '_', '-' -> "__". */
    static String environmentName(String key) {
        return "CONFIG_FORCE_" + key.replace("-", "__").replace('.', '_');
    }

    /** The raw list at {@code key}; empty when it is not a list (the caller reports what it expected). */
    public Optional<List<? extends ConfigValue>> list(String key) {
        try {
            return Optional.of(listOrListInString(key));
        } catch (ConfigException e) {
            return Optional.empty();
        }
    }

    /**
     * The list at {@code key}; a string that is a HOCON/JSON list ({@code ["/bin/echo","x"]}) is
     * parsed as one, because an environment variable can only carry a string:
     * {@code CONFIG_FORCE_shieldpool_work_exec_command='["/bin/echo","x"]'}.
     */
    private List<? extends ConfigValue> listOrListInString(String key) {
        ConfigValue value = valueOrNull(key);
        if (value != null && value.valueType() == ConfigValueType.STRING) {
            String text = ((String) value.unwrapped()).trim();
            if (text.startsWith("[") && text.endsWith("]")) {
                return ConfigFactory.parseString("list = " + text,
                        ConfigParseOptions.defaults().setOriginDescription(where(value.origin()))).getList("list");
            }
        }
        return config.getList(key);
    }

    /** An object of string values whose names match {@code namePattern}. */
    public Map<String, String> stringMap(String key, String namePattern, String namesExpected) {
        Map<String, String> values = new LinkedHashMap<>();
        ConfigObject object;
        try {
            object = config.getObject(key);
        } catch (ConfigException e) {
            problem(key, "an object of strings, such as { NAME = \"value\" }");
            return values;
        }
        for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
            ConfigValue value = e.getValue();
            if (!e.getKey().matches(namePattern)) {
                problems.add(new ConfigProblem(key + "." + e.getKey(), render(value), namesExpected, where(value.origin())));
            } else if (value.valueType() == ConfigValueType.OBJECT || value.valueType() == ConfigValueType.LIST
                    || value.valueType() == ConfigValueType.NULL) {
                problems.add(new ConfigProblem(key + "." + e.getKey(), render(value), "a string", where(value.origin())));
            } else {
                values.put(e.getKey(), String.valueOf(value.unwrapped()));
            }
        }
        return values;
    }

    /** "" means none; otherwise a directory path, which must exist when {@code mustExist}. */
    public Optional<Path> optionalDirectory(String key, boolean mustExist) {
        String text = string(key).trim();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            problem(key, "a directory path, or \"\" for none");
            return Optional.empty();
        }
        if (mustExist && !Files.isDirectory(path)) {
            problem(key, "an existing directory, or \"\" for none");
            return Optional.empty();
        }
        return Optional.of(path);
    }

    /** The subtree at {@code key} as written (empty when absent). */
    public Config subtree(String key, String expected) {
        if (!config.hasPath(key)) {
            return ConfigFactory.empty();
        }
        try {
            return config.getConfig(key);
        } catch (ConfigException e) {
            problem(key, expected);
            return ConfigFactory.empty();
        }
    }

    /**
     * Builds a record whose compact constructor checks rules over several values; a refusal
     * becomes a problem at the named key's origin, and {@code fallback} is returned.
     */
    public <T> T build(Supplier<T> record, Supplier<T> fallback) {
        try {
            return record.get();
        } catch (InvalidValueException e) {
            ConfigProblem refused = e.problem();
            ConfigValue value = refused.key() == null ? null : valueOrNull(refused.key());
            if (value != null) {
                problems.add(new ConfigProblem(refused.key(), render(value), refused.expected(), where(value.origin())));
            } else {
                problems.add(refused);
            }
            return fallback.get();
        }
    }

    /** Records that {@code key}'s value is not what was {@code expected}, with the value and where it was written. */
    public void problem(String key, String expected) {
        if (reported(key)) {
            return;
        }
        ConfigValue value = valueOrNull(key);
        if (value == null) {
            problems.add(new ConfigProblem(key, "(missing)", expected, null));
            return;
        }
        problems.add(new ConfigProblem(key, render(value), expected, where(value.origin())));
    }

    /** Records a problem whose value must not be shown as written (a secret). */
    public void problem(String key, String shownValue, String expected) {
        if (reported(key)) {
            return;
        }
        problems.add(new ConfigProblem(key, shownValue, expected, whereIs(key)));
    }

    /** Whether a problem of {@code key} is already recorded: one key, one line (the first check that failed). */
    private boolean reported(String key) {
        return problems.stream().anyMatch(p -> p.key().equals(key));
    }

    /** Where {@code key} was written: file:line or the layer's name; null when it is not set. */
    public String whereIs(String key) {
        ConfigValue value = valueOrNull(key);
        return value == null ? null : where(value.origin());
    }

    /**
     * The value at {@code key} as written, an explicit {@code null} included (whose type is NULL
     * and whose origin is where it was written); Java null when the key is absent or a parent on
     * its path is not an object. Config.getValue throws for a null value.
     */
    ConfigValue valueOrNull(String key) {
        ConfigValue current = config.root();
        for (String element : ConfigUtil.splitPath(key)) {
            if (!(current instanceof ConfigObject object)) {
                return null;
            }
            current = object.get(element);
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /** The value as the operator wrote it: strings bare unless blank or spaced, so "3 parsecs" stays readable. */
    static String render(ConfigValue value) {
        if (value.valueType() == ConfigValueType.STRING) {
            String text = (String) value.unwrapped();
            return text.isBlank() || text.chars().anyMatch(Character::isWhitespace)
                    ? value.render(ConfigRenderOptions.concise()) : text;
        }
        return value.render(ConfigRenderOptions.concise());
    }

    /** file:line for a file, or the name of the layer (environment, system properties). */
    static String where(ConfigOrigin origin) {
        if (origin == null) {
            return null;
        }
        if (origin.filename() != null) {
            return origin.lineNumber() > 0 ? origin.filename() + ":" + origin.lineNumber() : origin.filename();
        }
        if (origin.resource() != null) {
            return origin.resource() + (origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "");
        }
        return origin.description();
    }
}
