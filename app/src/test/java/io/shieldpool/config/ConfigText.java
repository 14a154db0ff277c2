package io.shieldpool.config;

import com.typesafe.config.ConfigFactory;
import io.shieldpool.kinds.WorkKinds;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/** Config text written to a file and loaded as the daemon loads its file (no environment, no -D), for the config tests. */
final class ConfigText {

    private final ConfigLoader loader = new ConfigLoader(ConfigFactory.empty(), new Properties(), WorkKinds.discover());
    private final Path file;

    /** @param file where each text is written before it is loaded */
    ConfigText(Path file) {
        this.file = file;
    }

    /** The defaults alone (no file). */
    ShieldpoolConfig defaults() throws InvalidConfigException {
        return loader.load(Optional.empty());
    }

    ShieldpoolConfig load(String content) throws Exception {
        Files.writeString(file, content);
        return loader.load(Optional.of(file));
    }

    /** The problems {@code content} is rejected with, one line each; fails the test if it loads. */
    List<String> problems(String content) throws Exception {
        try {
            load(content);
        } catch (InvalidConfigException e) {
            return e.problems().stream().map(ConfigProblem::toString).toList();
        }
        throw new AssertionError("expected problems for: " + content);
    }
}
