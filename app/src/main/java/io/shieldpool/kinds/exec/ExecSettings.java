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
 * @param maxLineLength     longest output line logged, in bytes; longer ones are cut
 * @param maxLinesPerSecond most output lines logged per second per command; 0 means no limit
 */
public record ExecSettings(List<String> command, Map<String, String> environment, Optional<Path> directory,
                           Duration killAfter, int maxLineLength, int maxLinesPerSecond) implements KindSettings {

    static final Rule<Duration> KILL_AFTER = Rule.durationAtLeast("shieldpool.work.exec.kill-after",
            Duration.ZERO, Duration.ofSeconds(5));
    /** reference.conf's defaults of the output limits. */
    static final int DEFAULT_MAX_LINE_LENGTH = 16384;
    static final int DEFAULT_MAX_LINES_PER_SECOND = 1000;
    /** Upper bound 1 MiB: each output pipe of a command buffers one line. */
    static final Rule<Integer> MAX_LINE_LENGTH = new Rule<>("shieldpool.work.exec.max-line-length",
            "an integer from 1 to 1048576", n -> n >= 1 && n <= 1 << 20, DEFAULT_MAX_LINE_LENGTH);
    static final Rule<Integer> MAX_LINES_PER_SECOND = new Rule<>("shieldpool.work.exec.max-lines-per-second",
            "an integer from 0 to 1000000", n -> n >= 0 && n <= 1_000_000, DEFAULT_MAX_LINES_PER_SECOND);

    public ExecSettings {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        Objects.requireNonNull(directory);
        KILL_AFTER.check(killAfter);
        MAX_LINE_LENGTH.check(maxLineLength);
        MAX_LINES_PER_SECOND.check(maxLinesPerSecond);
    }

    /** With the default output limits. */
    public ExecSettings(List<String> command, Map<String, String> environment, Optional<Path> directory,
                        Duration killAfter) {
        this(command, environment, directory, killAfter, DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_LINES_PER_SECOND);
    }
}
