package io.shieldpool.kinds.exec;

import io.shieldpool.config.KindSettings;
import io.shieldpool.config.Rule;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The exec kind's settings ({@code shieldpool.work.exec}): one command per section.
 *
 * @param command     the argv, first element the program; empty only when exec is not used
 * @param environment extra environment variables
 * @param directory   working directory, if not the daemon's
 * @param killAfter   pause between SIGTERM and SIGKILL to a command's process group
 */
public record ExecSettings(List<String> command, Map<String, String> environment, Optional<Path> directory,
                           Duration killAfter) implements KindSettings {

    static final Rule<Duration> KILL_AFTER = Rule.durationAtLeast("shieldpool.work.exec.kill-after",
            Duration.ZERO, Duration.ofSeconds(5));

    public ExecSettings {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        Objects.requireNonNull(directory);
        KILL_AFTER.check(killAfter);
    }
}
