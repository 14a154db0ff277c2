package io.shieldpool.e2e;

import com.typesafe.config.Config;
import io.shieldpool.plugin.BlockingSectionPlugin;
import io.shieldpool.plugin.SectionContext;
import io.shieldpool.plugin.SectionJob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A blocking plug-in (type {@code test-recording}) that records each section of a job in a file
 * shared by every daemon of a test: {@code S job attempt node epoch-nanos} when it begins,
 * {@code E ...} just before it returns, each line one {@code O_APPEND} write (atomic between
 * processes on a local file system), so a line is whole or absent after a SIGKILL. In between it
 * sleeps {@code duration}. Settings: {@code file}, {@code node}, {@code duration}. Packed into a
 * plug-in jar by the tests that use it (no process per section, unlike the exec kind, so four
 * daemons on two cores can run thousands of sections a minute).
 */
public final class RecordingPlugin implements BlockingSectionPlugin {

    private static final Map<Path, FileChannel> FILES = new ConcurrentHashMap<>();

    @Override
    public String type() {
        return "test-recording";
    }

    @Override
    public void runSection(SectionContext section) throws Exception {
        Config settings = section.config();
        FileChannel file = FILES.computeIfAbsent(Path.of(settings.getString("file")), RecordingPlugin::open);
        String node = settings.getString("node");
        Duration duration = settings.getDuration("duration");
        SectionJob job = section.job().orElseThrow(() -> new IllegalStateException("test-recording needs durable jobs"));
        record(file, "S", job, node);
        Thread.sleep(duration);
        record(file, "E", job, node);
    }

    /** Packs this class into {@code recording-plugin.jar} in {@code directory}: a plug-in directory. */
    static void packInto(Path directory) throws IOException {
        String classFile = RecordingPlugin.class.getName().replace('.', '/') + ".class";
        try (java.io.OutputStream file = java.nio.file.Files.newOutputStream(directory.resolve("recording-plugin.jar"));
             java.util.jar.JarOutputStream jar = new java.util.jar.JarOutputStream(file);
             java.io.InputStream bytes = RecordingPlugin.class.getClassLoader().getResourceAsStream(classFile)) {
            jar.putNextEntry(new java.util.jar.JarEntry(classFile));
            bytes.transferTo(jar);
            jar.putNextEntry(new java.util.jar.JarEntry("META-INF/services/io.shieldpool.plugin.SectionPlugin"));
            jar.write((RecordingPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void record(FileChannel file, String kind, SectionJob job, String node) throws IOException {
        Instant now = Instant.now();
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        ByteBuffer line = ByteBuffer.wrap((kind + " " + job.id() + " " + job.attempt() + " " + node + " " + nanos + "\n")
                .getBytes(StandardCharsets.US_ASCII));
        while (line.hasRemaining()) {
            file.write(line);
        }
    }

    private static FileChannel open(Path path) {
        try {
            return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
