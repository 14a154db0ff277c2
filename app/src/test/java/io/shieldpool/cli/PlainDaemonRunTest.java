package io.shieldpool.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The start-up fast path takes exactly the daemon's own command line and leaves the rest to picocli. */
class PlainDaemonRunTest {

    private static Optional<Path> configOf(String... args) {
        return Main.plainDaemonRun(args).map(main -> main.configFile);
    }

    @Test
    void noArgumentsRunsOnTheDefaultConfig() {
        assertThat(Main.plainDaemonRun(new String[0])).hasValueSatisfying(main -> assertThat(main.configFile).isNull());
    }

    @Test
    void everySpellingOfConfigIsTaken() {
        assertThat(configOf("--config", "/etc/shieldpool/shieldpool.conf")).contains(Path.of("/etc/shieldpool/shieldpool.conf"));
        assertThat(configOf("-c", "a.conf")).contains(Path.of("a.conf"));
        assertThat(configOf("--config=a.conf")).contains(Path.of("a.conf"));
    }

    @Test
    void anythingElseGoesToPicocli() {
        for (String[] args : new String[][]{
                {"--help"}, {"--version"}, {"check-config"}, {"status"}, {"--config"}, {"--config="},
                {"--config", "--help"}, {"--config", "a.conf", "extra"}, {"-c", "a.conf", "--version"},
                {"--conf", "a.conf"}, {"a.conf"}, {"--config", "nul\0byte"}}) {
            assertThat(Main.plainDaemonRun(args)).as(String.join(" ", args)).isEmpty();
        }
    }
}
