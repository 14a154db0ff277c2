package io.shieldpool.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The work kinds, as the configuration needs to know them: which {@code work.type} values exist,
 * and how each kind reads its own subtree. Implemented by the kinds' registry; the configuration
 * knows no kind by name.
 */
public interface WorkTypes {

    /** The type as the daemon names it ({@code work.type} as written, trimmed), or empty if no kind takes it. */
    Optional<String> recognise(String written);

    /** What {@code work.type} accepts, for its message: "demo, exec, http, or a plug-in's type (...)". */
    String expected();

    /**
     * Reads the settings of every kind that {@code type} makes relevant (all built-in kinds are
     * always checked; a plug-in's subtree only when it is the type), by kind name.
     */
    Map<String, KindSettings> read(String type, ConfigReader reader);

    /**
     * Key prefixes (full, ending in '.') under which the operator names the keys (environment
     * variables, headers, a plug-in's own settings): not unknown keys, and masked when their
     * names look like credentials.
     */
    List<String> operatorNamedKeys(String type);
}
