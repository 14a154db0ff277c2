package io.shieldpool.e2e;

import com.typesafe.config.Config;
import io.shieldpool.plugin.AsyncSectionPlugin;
import io.shieldpool.plugin.SectionContext;
import io.shieldpool.plugin.SectionJob;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * An asynchronous plug-in (type {@code test-recording}) whose section holds its job for
 * {@code duration} on a timer and records itself in {@code file}: {@code S job attempt node
 * epoch-nanos} when it begins, {@code E ...} when it ends ({@link SectionIntervals} reads them).
 * The intervals a cluster-wide limit must keep apart and the attempts a kill test counts are
 * judged from these lines (wall clock, shared by every daemon of this machine), not from the
 * daemons' counters. Each line is one unbuffered {@code O_APPEND} write, atomic between processes
 * on a local file system, so a line is whole or absent after a SIGKILL. Cheap enough for
 * thousands of sections a second on two cores, which an exec section (a shell, date, sleep) is
 * not. Settings: {@code file}, {@code node}, {@code duration}. Packed into a plug-in jar by {@link #pack}.
 */
public final class RecordingPlugin implements AsyncSectionPlugin {

    private static final Map<Path, FileChannel> FILES = new ConcurrentHashMap<>();

    @Override
    public String type() {
        return "test-recording";
    }

    @Override
    public Future<?> runSection(SectionContext section) {
        Config settings = section.config();
        SectionJob job = section.job().orElseThrow(() -> new IllegalStateException("test-recording runs jobs only"));
        FileChannel file = FILES.computeIfAbsent(Path.of(settings.getString("file")), RecordingPlugin::open);
        String node = settings.getString("node");
        record(file, "S", job, node);
        Promise<Void> ended = Promise.promise();
        section.vertx().setTimer(Math.max(1, settings.getDuration("duration").toMillis()), id -> {
            record(file, "E", job, node);
            section.stepDone();
            ended.complete();
        });
        return ended.future();
    }

    private static void record(FileChannel file, String kind, SectionJob job, String node) {
        Instant now = Instant.now();
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        ByteBuffer line = ByteBuffer.wrap((kind + " " + job.id() + " " + job.attempt() + " " + node + " " + nanos + "\n")
                .getBytes(StandardCharsets.US_ASCII));
        try {
            synchronized (file) {
                while (line.hasRemaining()) {
                    file.write(line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FileChannel open(Path path) {
        try {
            return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a plug-in jar holding this class into {@code directory} (created if need be); returns the directory. */
    public static Path pack(Path directory) throws IOException {
        Files.createDirectories(directory);
        String classFile = RecordingPlugin.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(directory.resolve("recording-plugin.jar"));
             JarOutputStream jar = new JarOutputStream(file);
             InputStream bytes = RecordingPlugin.class.getClassLoader().getResourceAsStream(classFile)) {
            jar.putNextEntry(new JarEntry(classFile));
            bytes.transferTo(jar);
            jar.putNextEntry(new JarEntry("META-INF/services/io.shieldpool.plugin.SectionPlugin"));
            jar.write((RecordingPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return directory;
    }
}
