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
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * An asynchronous plug-in (type {@code test-slots}) whose section holds its job for
 * {@code duration} on a timer and appends {@code S|E job attempt node epoch-nanos} lines to
 * {@code file} when it begins and ends: the intervals a cluster-wide limit must keep apart,
 * recorded by the sections themselves (wall clock, shared by every daemon of this machine), not by
 * the daemons' counters. Cheap enough for thousands of sections a second on two cores, which an
 * exec section (a shell, date, sleep) is not. Packed into a plug-in jar by {@link #pack}.
 */
public final class SlotRecorderPlugin implements AsyncSectionPlugin {

    private FileChannel out;

    @Override
    public String type() {
        return "test-slots";
    }

    @Override
    public Future<?> runSection(SectionContext section) {
        Config settings = section.config();
        SectionJob job = section.job().orElseThrow(() -> new IllegalStateException("test-slots runs jobs only"));
        String node = settings.getString("node");
        record(settings, "S", job, node);
        Promise<Void> ended = Promise.promise();
        section.vertx().setTimer(Math.max(1, settings.getDuration("duration").toMillis()), id -> {
            record(settings, "E", job, node);
            section.stepDone();
            ended.complete();
        });
        return ended.future();
    }

    private synchronized void record(Config settings, String kind, SectionJob job, String node) {
        Instant now = Instant.now();
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        String line = kind + " " + job.id() + " " + job.attempt() + " " + node + " " + nanos + "\n";
        try {
            if (out == null) {
                out = FileChannel.open(Path.of(settings.getString("file")), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            }
            // why unbuffered: a SIGKILLed daemon loses no line it had written.
            out.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a plug-in jar holding this class into {@code directory}; returns the directory. */
    public static Path pack(Path directory) throws IOException {
        Files.createDirectories(directory);
        String classFile = SlotRecorderPlugin.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(directory.resolve("slot-recorder-plugin.jar"));
             JarOutputStream jar = new JarOutputStream(file);
             InputStream bytes = SlotRecorderPlugin.class.getClassLoader().getResourceAsStream(classFile)) {
            jar.putNextEntry(new JarEntry(classFile));
            bytes.transferTo(jar);
            jar.putNextEntry(new JarEntry("META-INF/services/io.shieldpool.plugin.SectionPlugin"));
            jar.write((SlotRecorderPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return directory;
    }
}
