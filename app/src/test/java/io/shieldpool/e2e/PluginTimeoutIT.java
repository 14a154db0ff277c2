package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A blocking plug-in that swallows the interrupt of {@code work.timeout} stays inside the shield:
 * its section ends as timed_out only once its method has returned, its worker starts nothing
 * beside it, a drain waits for it, and the grace cap reports it as abandoned. The plug-in
 * ({@link StubbornBlockingPlugin}) is packed into a jar of a plug-in directory and loaded by the
 * packaged daemon like any third-party plug-in.
 */
@Timeout(120)
class PluginTimeoutIT {

    private static final String RETURNS = "stubborn section returns";
    private static final String SWALLOWED = "stubborn section: interrupt swallowed";

    @TempDir
    static Path pluginDirectory;

    @TempDir
    Path dir;

    @BeforeAll
    static void packTheStubbornPlugin() throws Exception {
        String classFile = StubbornBlockingPlugin.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(pluginDirectory.resolve("stubborn-plugin.jar"));
             JarOutputStream jar = new JarOutputStream(file);
             InputStream bytes = StubbornBlockingPlugin.class.getClassLoader().getResourceAsStream(classFile)) {
            jar.putNextEntry(new JarEntry(classFile));
            bytes.transferTo(jar);
            jar.putNextEntry(new JarEntry("META-INF/services/io.shieldpool.plugin.SectionPlugin"));
            jar.write((StubbornBlockingPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String config(String hold, String extra) {
        return """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.type = test-stubborn
                shieldpool.work.timeout = 1s
                shieldpool.work.plugin-directory = "%s"
                shieldpool.work.test-stubborn { step-duration = 30s, hold = %s }
                %s
                """.formatted(pluginDirectory, hold, extra);
    }

    private static int indexOf(List<JsonObject> events, java.util.function.Predicate<JsonObject> match) {
        for (int i = 0; i < events.size(); i++) {
            if (match.test(events.get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void aTimedOutSectionEndsOnlyWhenItsMethodHasReturnedAndNothingStartsBesideIt() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, config("2500ms", ""))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject end = daemon.awaitEvent("section.end", Duration.ofSeconds(20));
            assertThat(end.getString("outcome")).isEqualTo("timed_out");
            assertThat(end.getString("error")).isEqualTo("work.timeout of 1000 ms passed");
            List<JsonObject> events = daemon.events();
            int interrupted = indexOf(events, e -> e.getString("message", "").startsWith(SWALLOWED));
            int returned = indexOf(events, e -> RETURNS.equals(e.getString("message")));
            int ended = indexOf(events, e -> "section.end".equals(e.getString("event")));
            assertThat(interrupted).as("interrupted at the timeout\n%s", daemon.transcript()).isNotNegative();
            assertThat(returned).as("the method returned\n%s", daemon.transcript()).isGreaterThan(interrupted);
            assertThat(ended).as("section.end after the method returned\n%s", daemon.transcript()).isGreaterThan(returned);
            // pool.size = 1: the worker's next section starts only after this one has returned.
            assertThat(events.subList(0, returned)).as(daemon.transcript())
                    .filteredOn(e -> "section.start".equals(e.getString("event"))).hasSize(1);
            assertThat(daemon.events("plugin.interrupt")).first()
                    .satisfies(e -> assertThat(e.getString("level")).isEqualTo("WARN"));
            daemon.drainNow();
        }
    }

    @Test
    void aSigtermWhileATimedOutSectionStillRunsDrainsIt() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, config("3s", ""))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject interrupt = daemon.await(e -> e.getString("message", "").startsWith(SWALLOWED),
                    Duration.ofSeconds(20), "the interrupt of the timeout");
            JsonObject summary = daemon.drainNow();
            assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight"))
                    .as("the timed-out section, still running, is in flight\n%s", daemon.transcript()).isEqualTo(1);
            assertThat(summary.getLong("started")).isEqualTo(1);
            assertThat(summary.getLong("timed_out")).isEqualTo(1);
            List<JsonObject> events = daemon.events();
            int returned = indexOf(events, e -> RETURNS.equals(e.getString("message")));
            int ended = indexOf(events, e -> "section.end".equals(e.getString("event"))
                    && interrupt.getLong("section").equals(e.getLong("section")));
            assertThat(returned).as("the drain waited for the method\n%s", daemon.transcript()).isNotNegative();
            assertThat(ended).isGreaterThan(returned);
        }
    }

    @Test
    void aTimedOutSectionStillRunningAtTheGraceCapIsReportedAbandoned() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, config("60s", "shieldpool.shutdown.grace = 1s"))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.await(e -> e.getString("message", "").startsWith(SWALLOWED), Duration.ofSeconds(20),
                    "the interrupt of the timeout");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isEqualTo(75);
            JsonObject summary = DrainInvariants.check(daemon, true);
            assertThat(summary.getLong("started")).isEqualTo(1);
            assertThat(summary.getLong("abandoned")).as(daemon.transcript()).isEqualTo(1);
            assertThat(summary.getLong("timed_out")).isZero();
            assertThat(daemon.stdout()).noneMatch(line -> line.contains(RETURNS));
        }
    }
}
