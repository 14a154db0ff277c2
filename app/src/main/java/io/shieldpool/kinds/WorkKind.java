package io.shieldpool.kinds;

import io.shieldpool.config.ConfigReader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.ShieldpoolConfig;

import java.util.List;

/**
 * One work kind: what a section of {@code work.type = <name>} does, and everything the daemon must
 * know about it. Kinds are found with {@link java.util.ServiceLoader} (built-in ones are listed in
 * this jar's {@code META-INF/services/io.shieldpool.kinds.WorkKind}), so a new kind is one new
 * folder and one line there; nothing outside the kind names it.
 */
public interface WorkKind {

    /** The {@code work.type} value this kind answers to, and the name of its subtree {@code shieldpool.work.<name>}. */
    String name();

    /**
     * Whether this kind answers for {@code type} as written, when no kind is named so: the plug-in
     * kind does for any well-formed name (it names a plug-in). At most one kind answers for others.
     */
    default boolean answersFor(String type) {
        return false;
    }

    /** Whether this is the kind that {@link #answersFor} other types (the plug-in kind). */
    default boolean answersForOtherTypes() {
        return false;
    }

    /** This kind in the words of {@code work.type}'s message: its name, or what names it takes. */
    default String describe() {
        return name();
    }

    /**
     * Reads and validates {@code shieldpool.work.<type>} through {@code reader}, collecting problems
     * there.
     *
     * @param type    the subtree's name: {@link #name()}, or for the plug-in kind the plug-in's type
     * @param running whether this kind is the configured type (so required keys must be set)
     */
    KindSettings readSettings(ConfigReader reader, String type, boolean running);

    /**
     * Key prefixes under the kind's subtree whose keys the operator names (environment variables,
     * headers): not unknown keys, and masked when their names look like credentials.
     *
     * @param type the configured type (the plug-in kind's subtree is named after it)
     */
    default List<String> operatorNamedKeys(String type) {
        return List.of();
    }

    /** Choices that are valid but look wrong for this kind, for check-config; {@code config} runs this kind. */
    default List<String> advice(ShieldpoolConfig config) {
        return List.of();
    }

    /**
     * What the configured work needs beyond valid keys, checked before anything starts, by the
     * daemon and by check-config alike (a plug-in that must load, a C library function exec needs).
     *
     * @param builtIn the names of the kinds that answer to their own name only (for messages)
     * @throws InvalidConfigException naming {@code work.type} when the kind cannot run here (exit 78)
     */
    PreparedKind preflight(EffectiveConfig config, List<String> builtIn) throws InvalidConfigException;
}
