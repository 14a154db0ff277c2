package io.shieldpool.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What an operator needs to know of a file this process may not use: its owner and mode, in the
 * words every such error line uses (a config key's file, the SQLite store's files).
 */
public final class FileAccess {

    private FileAccess() {
    }

    /** "owner O, mode rw-------", or "owner and mode unknown" when they cannot be read. */
    public static String ownerAndMode(Path file) {
        try {
            return "owner " + Files.getOwner(file).getName() + ", mode "
                    + PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return "owner and mode unknown";
        }
    }
}
