package io.shieldpool.jobs.sqlite;

import io.shieldpool.jobs.JobStoreException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The single-instance lock: an exclusive POSIX lock on {@code <db>.lock}, holding the owner's pid.
 * The kernel drops it when the process dies, however it dies, so a lock found free means no
 * daemon is using the file, and every job found running then belonged to a dead process.
 * why a separate file: SQLite takes its own POSIX locks on the database; a lock of ours on the
 * same file would be dropped when SQLite closes any descriptor of it (POSIX lock semantics), and
 * the CLI, which never takes this lock, can open the database while the daemon runs.
 */
final class InstanceLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private InstanceLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static Path pathFor(Path database) {
        return database.resolveSibling(database.getFileName() + ".lock");
    }

    /** Takes the lock or throws {@link JobStoreException.Kind#IN_USE} naming the holder's pid. */
    static InstanceLock acquire(Path database) {
        Path file = pathFor(database);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE,
                    "cannot create the job store's lock file " + file + ": " + AccessProblem.of(database).orElse(e.toString()), e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameJvm) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE,
                    "cannot lock the job store's lock file " + file + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            String holder = holder(file);
            closeQuietly(channel);
            throw new JobStoreException(JobStoreException.Kind.IN_USE, "the job store " + database
                    + " is in use by another shieldpool daemon" + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                    + "; one daemon per file: stop it, or set shieldpool.jobs.sqlite.path to another file");
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        } catch (IOException ignored) {
            // the pid is only shown in the message a second daemon prints
        }
        return new InstanceLock(channel, lock);
    }

    private static String holder(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it anyway
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }
}
