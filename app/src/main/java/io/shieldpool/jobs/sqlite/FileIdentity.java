package io.shieldpool.jobs.sqlite;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Which file (device and inode) the store's path named when it was opened, and whether it still
 * does. why: SQLite goes on working on an open file whose path was removed ({@code rm -rf} of its
 * directory) or replaced (another file moved over it): every commit then lands in a file no one
 * will open again and is lost at the stop, while enqueues are still answered "durable". One stat
 * (a few microseconds) tells it.
 */
final class FileIdentity {

    private final Path path;
    private final Object key;

    private FileIdentity(Path path, Object key) {
        this.path = path;
        this.key = key;
    }

    /** The identity of the file {@code path} names now; empty when the file system gives none (no inodes). */
    static Optional<FileIdentity> of(Path path) {
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            return key == null ? Optional.empty() : Optional.of(new FileIdentity(path, key));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * What became of the path since: empty while it names the same file, else "was removed" or
     * "was replaced by another file". A path that cannot be looked at for another reason (a
     * directory made unreadable) is taken as unchanged: the open file is not known to be lost.
     */
    Optional<String> change() {
        try {
            Object now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            return key.equals(now) ? Optional.empty() : Optional.of("was replaced by another file");
        } catch (NoSuchFileException e) {
            return Optional.of("was removed");
        } catch (FileSystemException e) {
            // why: a directory on the way replaced by a plain file (ENOTDIR) removed ours as surely
            return "Not a directory".equals(e.getReason()) ? Optional.of("was removed") : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
