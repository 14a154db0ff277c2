package io.shieldpool.jobs.sqlite;

import io.shieldpool.config.FileAccess;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Why this process cannot use a store file, in words. why: SQLite says only "unable to open
 * database file" (SQLITE_CANTOPEN), and Java's AccessDeniedException only the path; an operator
 * needs which file, its owner and mode, and the user the daemon runs as.
 */
final class AccessProblem {

    private static final String OTHER_FILE = "shieldpool.jobs.sqlite.path to a file elsewhere";

    private AccessProblem() {
    }

    /** What keeps this process from reading and writing the store {@code database}; empty when nothing visible does. */
    static Optional<String> of(Path database) {
        if (Files.isDirectory(database)) {
            return Optional.of(database + " is a directory (expected: a file, or a name the store may create;"
                    + " set shieldpool.jobs.sqlite.path to one)");
        }
        String user = System.getProperty("user.name");
        List<Path> files = List.of(database, sibling(database, "-wal"), sibling(database, "-shm"),
                InstanceLock.pathFor(database));
        boolean allExist = true;
        for (Path file : files) {
            if (!Files.exists(file)) {
                allExist = false;
            } else if (!Files.isReadable(file) || !Files.isWritable(file)) {
                return Optional.of(file + " (" + FileAccess.ownerAndMode(file) + ") is not readable and writable by user " + user
                        + "; give " + user + " read and write access to it, or set " + OTHER_FILE);
            }
        }
        Path dir = database.toAbsolutePath().getParent();
        if (!allExist && dir != null && !Files.isWritable(dir)) {
            return Optional.of("the directory " + dir + " (" + FileAccess.ownerAndMode(dir) + ") is not writable by user " + user
                    + " (the store creates its -wal, -shm and .lock files there); give " + user
                    + " write access to it, or set " + OTHER_FILE);
        }
        return Optional.empty();
    }

    private static Path sibling(Path database, String suffix) {
        return database.resolveSibling(database.getFileName() + suffix);
    }
}
