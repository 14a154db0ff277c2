package io.shieldpool.runtime;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the daemon keeps its {@link StateFile}, in this order: {@code $RUNTIME_DIRECTORY} (systemd
 * sets it from the unit's {@code RuntimeDirectory=}, {@code /run/shieldpool}), {@code
 * $SHIELDPOOL_RUNTIME_DIR}, {@code $XDG_RUNTIME_DIR/shieldpool}, then {@code
 * <java.io.tmpdir>/shieldpool-<user>}. The last two are created private to the user (0700), and
 * refused if they belong to someone else or are a symbolic link (a shared /tmp).
 */
public final class RuntimeDir {

    /** The package's directory: where {@code shieldpool reload} looks when nothing says otherwise. */
    static final Path PACKAGED = Path.of("/run/shieldpool");

    private RuntimeDir() {
    }

    /** The directory this process would write its state file in. */
    public static Path forDaemon(Map<String, String> env) {
        return forDaemon(env, Path.of(System.getProperty("java.io.tmpdir")), System.getProperty("user.name"));
    }

    /**
     * The directory a daemon with this environment, {@code java.io.tmpdir} and user writes its state
     * file in: {@code shieldpool reload --pid} works it out for a daemon it finds nothing of.
     */
    public static Path forDaemon(Map<String, String> env, Path tmpdir, String user) {
        return candidates(env, false, tmpdir, user).getFirst();
    }

    /**
     * Where to look for a daemon's state file. A directory named by the environment ({@code
     * $RUNTIME_DIRECTORY}, {@code $SHIELDPOOL_RUNTIME_DIR}) is the only place looked in, as
     * {@code --runtime-dir} is: daemons elsewhere on the machine are not this environment's.
     * Otherwise, most specific first: the package's {@code /run/shieldpool} (an operator's shell has
     * no {@code $RUNTIME_DIRECTORY}), then the daemon's own fallbacks for this user.
     */
    public static List<Path> forClient(Map<String, String> env) {
        List<Path> named = new ArrayList<>();
        set(env, "RUNTIME_DIRECTORY").ifPresent(v -> named.add(Path.of(v.split(":")[0])));
        set(env, "SHIELDPOOL_RUNTIME_DIR").ifPresent(v -> named.add(Path.of(v)));
        return named.isEmpty()
                ? candidates(env, true, Path.of(System.getProperty("java.io.tmpdir")), System.getProperty("user.name"))
                : List.copyOf(new LinkedHashSet<>(named));
    }

    private static List<Path> candidates(Map<String, String> env, boolean client, Path tmpdir, String user) {
        LinkedHashSet<Path> dirs = new LinkedHashSet<>();
        // why: RUNTIME_DIRECTORY lists every RuntimeDirectory= of the unit, separated by ':'; ours is the first.
        set(env, "RUNTIME_DIRECTORY").ifPresent(v -> dirs.add(Path.of(v.split(":")[0])));
        set(env, "SHIELDPOOL_RUNTIME_DIR").ifPresent(v -> dirs.add(Path.of(v)));
        if (client) {
            dirs.add(PACKAGED);
        }
        set(env, "XDG_RUNTIME_DIR").ifPresent(v -> dirs.add(Path.of(v, "shieldpool")));
        dirs.add(tmpdir.resolve("shieldpool-" + user));
        return new ArrayList<>(dirs);
    }

    private static Optional<String> set(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).filter(v -> !v.isBlank());
    }

    /**
     * Creates {@code dir} private to this user if it is missing; fails if it is not a directory this
     * user owns (never a symbolic link planted in a shared directory).
     */
    static void ensurePrivate(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // another daemon of the same user made it: checked below like any existing one
            }
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is not a directory");
        }
        String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
        if (!owner.equals(System.getProperty("user.name"))) {
            throw new IOException(dir + " belongs to " + owner + ", not to " + System.getProperty("user.name"));
        }
    }
}
