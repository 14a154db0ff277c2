package io.shieldpool.runtime;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * What a running daemon says about itself in {@code shieldpool-PID.state}, in its runtime directory
 * (see {@link RuntimeDir}): its lifecycle state, its config version, and its reloads: how many began,
 * how many ended, and how the last one ended. {@code shieldpool reload} reads it to learn whether the
 * reload it asked for was applied or rejected. The daemon replaces the file whole (rename), so a
 * reader sees one version or the next, never a torn one.
 *
 * @param pid             the daemon's process id
 * @param startTime       when it started, in clock ticks since boot ({@link ProcessStart}); empty in a
 *                        file of an older daemon, or of one that could not read /proc/self/stat
 * @param state           starting, running, draining or stopped
 * @param configVersion   1 at start, +1 per applied reload
 * @param reloadsBegan    reloads begun since start
 * @param reloadsEnded    reloads ended (applied, rejected or discarded) since start
 * @param lastReload      how the last ended reload ended: none, applied, rejected or discarded
 * @param lastReloadSummary one line: the changed keys, or the problems
 */
public record StateFile(long pid, OptionalLong startTime, String state, long configVersion, long reloadsBegan,
                        long reloadsEnded, String lastReload, String lastReloadSummary) {

    static final String PREFIX = "shieldpool-";
    static final String SUFFIX = ".state";

    /** The file a daemon with this pid writes in {@code dir}. */
    public static Path path(Path dir, long pid) {
        return dir.resolve(PREFIX + pid + SUFFIX);
    }

    /** The file's text: Java properties, one key per line. */
    String format() {
        return "# shieldpool daemon state, replaced whole at each change; read by `shieldpool reload`\n"
                + "pid=" + pid + "\n"
                + (startTime.isPresent() ? "start-time=" + startTime.getAsLong() + "\n" : "")
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
            String started = p.getProperty("start-time");
            return new StateFile(Long.parseLong(p.getProperty("pid")),
                    started == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(started)),
                    p.getProperty("state", "unknown"),
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

    /**
     * The state files in {@code dir} whose daemon still runs, as {@code check} judges; a stale one is
     * given to {@code stale} and removed, when this user may.
     */
    public static List<StateFile> live(Path dir, DaemonCheck check, Consumer<StateFile> stale) {
        List<StateFile> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path file : files) {
                Optional<StateFile> read;
                try {
                    read = read(file);
                } catch (IOException e) {
                    continue; // unreadable or foreign: not a daemon we can talk to
                }
                if (read.isEmpty()) {
                    continue;
                }
                switch (check.of(read.get())) {
                    case LIVE -> found.add(read.get());
                    case STALE -> {
                        stale.accept(read.get());
                        removeIfUnchanged(file, read.get());
                    }
                    case GONE -> {
                        // the daemon removes those at its next start; a reader leaves them, as before
                    }
                }
            }
        } catch (IOException e) {
            // an unreadable directory holds nothing we can use
        }
        return found;
    }

    /**
     * Removes {@code file} if it still says what {@code judged} said, when this user may. why the
     * move aside first: a new daemon under the same pid (a restarted container's daemon gets the same
     * small pid) replaces the stale file with its own, which must stay; a re-read then a delete would
     * remove that file if the daemon wrote it between the two. Moved aside, the file read is the file
     * removed; one the daemon wrote just before the move goes back (link(2): never over a newer one).
     */
    public static void removeIfUnchanged(Path file, StateFile judged) {
        removeIfUnchanged(file, judged, () -> { });
    }

    /** {@link #removeIfUnchanged(Path, StateFile)}; {@code meanwhile} runs once the file is set aside (tests). */
    static void removeIfUnchanged(Path file, StateFile judged, Runnable meanwhile) {
        // why a dot: the name never matches PREFIX*SUFFIX, so no reader takes it for a daemon's file
        Path aside = file.resolveSibling("." + file.getFileName() + ".stale-" + ProcessHandle.current().pid());
        try {
            Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            return; // gone already, or not ours to move (another user's directory): ignored all the same
        }
        meanwhile.run();
        boolean unchanged;
        try {
            unchanged = read(aside).equals(Optional.of(judged));
        } catch (IOException e) {
            unchanged = false;
        }
        try {
            if (!unchanged) {
                try {
                    Files.createLink(file, aside);
                } catch (FileAlreadyExistsException newer) {
                    // the daemon wrote its file again meanwhile: that one is current
                }
            }
            Files.deleteIfExists(aside);
        } catch (IOException e) {
            // the directory went away or changed hands: nothing more to do
        }
    }
}
