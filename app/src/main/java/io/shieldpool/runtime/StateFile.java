package io.shieldpool.runtime;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.LongPredicate;

/**
 * What a running daemon says about itself in {@code shieldpool-PID.state}, in its runtime directory
 * (see {@link RuntimeDir}): its lifecycle state, its config version, and its reloads: how many began,
 * how many ended, and how the last one ended. {@code shieldpool reload} reads it to learn whether the
 * reload it asked for was applied or rejected. The daemon replaces the file whole (rename), so a
 * reader sees one version or the next, never a torn one.
 *
 * @param pid             the daemon's process id
 * @param state           starting, running, draining or stopped
 * @param configVersion   1 at start, +1 per applied reload
 * @param reloadsBegan    reloads begun since start
 * @param reloadsEnded    reloads ended (applied, rejected or discarded) since start
 * @param lastReload      how the last ended reload ended: none, applied, rejected or discarded
 * @param lastReloadSummary one line: the changed keys, or the problems
 */
public record StateFile(long pid, String state, long configVersion, long reloadsBegan, long reloadsEnded,
                        String lastReload, String lastReloadSummary) {

    static final String PREFIX = "shieldpool-";
    static final String SUFFIX = ".state";

    /** The file a daemon with this pid writes in {@code dir}. */
    public static Path path(Path dir, long pid) {
        return dir.resolve(PREFIX + pid + SUFFIX);
    }

    /** True when the process this file describes still runs. */
    public boolean alive() {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The file's text: Java properties, one key per line. */
    String format() {
        return "# shieldpool daemon state, replaced whole at each change; read by `shieldpool reload`\n"
                + "pid=" + pid + "\n"
                + "state=" + state + "\n"
                + "config-version=" + configVersion + "\n"
                + "reloads-began=" + reloadsBegan + "\n"
                + "reloads-ended=" + reloadsEnded + "\n"
                + "last-reload=" + lastReload + "\n"
                + "last-reload-summary=" + lastReloadSummary.replace("\\", "\\\\").replace("\n", "\\n") + "\n";
    }

    static StateFile parse(String text) throws IOException {
        Properties p = new Properties();
        try (Reader reader = new StringReader(text)) {
            p.load(reader);
        }
        try {
            return new StateFile(Long.parseLong(p.getProperty("pid")), p.getProperty("state", "unknown"),
                    Long.parseLong(p.getProperty("config-version", "0")),
                    Long.parseLong(p.getProperty("reloads-began", "0")),
                    Long.parseLong(p.getProperty("reloads-ended", "0")),
                    p.getProperty("last-reload", "none"), p.getProperty("last-reload-summary", ""));
        } catch (NumberFormatException | NullPointerException e) {
            throw new IOException("not a shieldpool state file: " + e.getMessage());
        }
    }

    /** The state file at {@code file}; empty if there is none. */
    public static Optional<StateFile> read(Path file) throws IOException {
        try {
            return Optional.of(parse(Files.readString(file)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** The state files in {@code dir} whose daemon still runs, as {@code alive} judges a pid. */
    public static List<StateFile> live(Path dir, LongPredicate alive) {
        List<StateFile> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path file : files) {
                try {
                    read(file).filter(state -> alive.test(state.pid())).ifPresent(found::add);
                } catch (IOException e) {
                    // unreadable or foreign: not a daemon we can talk to
                }
            }
        } catch (IOException e) {
            // an unreadable directory holds nothing we can use
        }
        return found;
    }
}
