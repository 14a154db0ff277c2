package io.shieldpool.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * When a process started, as the kernel counts it: field 22 of {@code /proc/PID/stat}, clock ticks
 * since boot. A pid and its start time name one process for the life of the machine: a pid reused by
 * another process comes with a later start time.
 *
 * <p>why not {@code ProcessHandle.Info.startInstant()}: it adds the boot time of {@code /proc/stat},
 * which moves when the clock is set, so one process could be read with two instants; its tick count
 * never changes.
 */
final class ProcessStart {

    /** starttime's place among the fields after the command name, which ends with the last ')': field 3 is the first. */
    private static final int START_TIME = 22 - 3;

    private ProcessStart() {
    }

    /** The start time of {@code pid}; empty when /proc does not show it (gone, or hidden by the unit's sandbox). */
    static OptionalLong of(long pid) {
        try {
            return parse(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | SecurityException e) {
            return OptionalLong.empty();
        }
    }

    /** The start time in a {@code /proc/PID/stat} line; empty if it is not one. */
    static OptionalLong parse(String stat) {
        // why the last ')': the command name is in parentheses and may itself hold ") " and spaces
        int end = stat.lastIndexOf(')');
        if (end < 0 || end + 2 > stat.length()) {
            return OptionalLong.empty();
        }
        String[] fields = stat.substring(end + 2).strip().split(" ");
        if (fields.length <= START_TIME) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(fields[START_TIME]));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
