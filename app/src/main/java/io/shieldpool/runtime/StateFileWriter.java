package io.shieldpool.runtime;

import io.shieldpool.view.PoolListener;
import io.shieldpool.view.ShutdownReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Keeps this daemon's {@link StateFile} current: written when it starts, is ready, begins and ends
 * a reload, drains and stops; deleted when it exits. Files of dead daemons found at start (their pid
 * gone, or another process's now: {@link DaemonCheck}) are removed. Writing is never fatal: a
 * directory that cannot be used costs only {@code shieldpool reload}, and says so once in the log.
 *
 * <p>Callbacks come on the supervisor's event loop; the file is written by one thread of its own,
 * in the order the news came, so the loop never waits for the file system.
 */
public final class StateFileWriter implements PoolListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StateFileWriter.class);

    private final Path dir;
    private final Path file;
    private final long pid = ProcessHandle.current().pid();
    private final OptionalLong startTime = ProcessStart.of(pid);
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "shieldpool-state-file");
        thread.setDaemon(true);
        return thread;
    });
    // why: only the supervisor's thread changes these; the writer thread gets a snapshot (a record).
    private String state = "starting";
    /** As the supervisor counts it: 1 at start, +1 per applied reload. */
    private long configVersion = 1;
    private long reloadsBegan;
    private long reloadsEnded;
    private String lastReload = "none";
    private String lastReloadSummary = "";
    private volatile boolean usable = true;

    private StateFileWriter(Path dir) {
        this.dir = dir;
        this.file = StateFile.path(dir, pid);
    }

    /**
     * Opens the state file in the runtime directory {@code env} names (see {@link RuntimeDir}) and
     * writes the first version ("starting").
     */
    public static StateFileWriter open(Map<String, String> env) {
        StateFileWriter writer = new StateFileWriter(RuntimeDir.forDaemon(env));
        writer.writer.execute(writer::prepare);
        writer.publish();
        return writer;
    }

    /** Where the file is written. */
    public Path file() {
        return file;
    }

    private void prepare() {
        try {
            RuntimeDir.ensurePrivate(dir);
            removeStaleFiles();
        } catch (IOException | RuntimeException e) {
            usable = false;
            log.atWarn().addKeyValue("event", "state-file.unusable").addKeyValue("directory", dir.toString())
                    .addKeyValue("error", e.getMessage())
                    .log("cannot keep a state file in {} ({}): `shieldpool reload` will not find this daemon; "
                            + "set SHIELDPOOL_RUNTIME_DIR to a directory of its own", dir, e.getMessage());
        }
    }

    private void removeStaleFiles() throws IOException {
        DaemonCheck check = DaemonCheck.inDaemon();
        try (var files = Files.newDirectoryStream(dir, StateFile.PREFIX + "*" + StateFile.SUFFIX)) {
            for (Path stale : files) {
                Optional<StateFile> other;
                try {
                    other = StateFile.read(stale);
                } catch (IOException e) {
                    continue; // not ours to judge
                }
                // why the start time too: a file left by a daemon whose pid another process now has is as dead
                if (other.isPresent() && check.of(other.get()) != DaemonCheck.Verdict.LIVE) {
                    StateFile.removeIfUnchanged(stale, other.get());
                }
            }
        }
    }

    @Override
    public void ready(int workers) {
        state = "running";
        publish();
    }

    @Override
    public void reloadBegan() {
        reloadsBegan++;
        publish();
    }

    @Override
    public void reloadEnded(boolean applied, String summary) {
        reloadsEnded++;
        if (applied) {
            configVersion++;
        }
        lastReload = applied ? "applied" : state.equals("draining") ? "discarded" : "rejected";
        lastReloadSummary = summary;
        publish();
    }

    @Override
    public void drainBegan(String signal, long inFlight, Duration grace) {
        state = "draining";
        publish();
    }

    @Override
    public void stopped(ShutdownReport report) {
        state = "stopped";
        publish();
    }

    /** Deletes the file once the writes before it are done; idempotent. */
    @Override
    public void close() {
        writer.execute(() -> {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // the directory is going away with the service anyway
            }
        });
        writer.shutdown();
        try {
            writer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void publish() {
        StateFile snapshot = new StateFile(pid, startTime, state, configVersion, reloadsBegan, reloadsEnded,
                lastReload, lastReloadSummary);
        try {
            writer.execute(() -> write(snapshot));
        } catch (RejectedExecutionException closed) {
            // after close(): the daemon is exiting
        }
    }

    private void write(StateFile snapshot) {
        if (!usable) {
            return;
        }
        Path partial = dir.resolve("." + file.getFileName() + ".partial");
        try {
            Files.writeString(partial, snapshot.format());
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            usable = false;
            log.atWarn().addKeyValue("event", "state-file.unusable").addKeyValue("directory", dir.toString())
                    .addKeyValue("error", e.toString())
                    .log("cannot write the state file {} ({}): `shieldpool reload` will not see this daemon's reloads",
                            file, e.toString());
        }
    }
}
