package io.shieldpool.e2e;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The .deb that {@code mvn package} built, unpacked with {@code dpkg-deb} into a scratch directory:
 * its files and modes, its conffile list and control data, maintainer scripts that parse, a
 * conffile whose commented-out defaults are reference.conf's, and the packaged launcher running
 * {@code check-config} on the packaged config with the packaged jar.
 */
@Timeout(120)
class DebianPackageIT {

    private static final Path DEB = Path.of(System.getProperty("shieldpool.deb", "target/shieldpool.deb"));

    @TempDir
    Path dir;

    private Path root;
    private Path control;

    @BeforeEach
    void unpack() throws Exception {
        boolean dpkg = run(List.of("sh", "-c", "command -v dpkg-deb"), Map.of()).exitCode() == 0;
        if (!dpkg) {
            System.err.println("SKIPPED DebianPackageIT: dpkg-deb is not installed");
        }
        Assumptions.assumeTrue(dpkg, "dpkg-deb is not installed");
        assertThat(DEB).as("mvn package builds the .deb").isRegularFile();
        root = dir.resolve("root");
        control = dir.resolve("DEBIAN");
        ToolRun x = run(List.of("dpkg-deb", "-x", DEB.toString(), root.toString()), Map.of());
        assertThat(x.exitCode()).as(x.out()).isZero();
        ToolRun e = run(List.of("dpkg-deb", "-e", DEB.toString(), control.toString()), Map.of());
        assertThat(e.exitCode()).as(e.out()).isZero();
    }

    @Test
    void shipsTheFilesWithTheirModes() throws Exception {
        Map<String, String> expected = Map.of(
                "usr/bin/shieldpool", "rwxr-xr-x",
                "usr/share/shieldpool/shieldpool.jar", "rw-r--r--",
                "usr/share/shieldpool/train-aot", "rwxr-xr-x",
                "etc/shieldpool/shieldpool.conf", "rw-r-----",
                "usr/lib/systemd/system/shieldpool.service", "rw-r--r--",
                "usr/lib/sysusers.d/shieldpool.conf", "rw-r--r--",
                "usr/lib/tmpfiles.d/shieldpool.conf", "rw-r--r--",
                "usr/share/shieldpool/restart-backoff", "rwxr-xr-x");
        expected.forEach((path, mode) -> {
            try {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(path))))
                        .as(path).isEqualTo(mode);
            } catch (java.io.IOException e) {
                throw new AssertionError(path + " is not in the package", e);
            }
        });
        assertThat(Files.readString(root.resolve("usr/lib/systemd/system/shieldpool.service")))
                .isEqualTo(Files.readString(SystemdUnitIT.SYSTEMD_DIR.resolve("shieldpool.service")));
        assertThat(Files.readString(root.resolve("usr/lib/sysusers.d/shieldpool.conf")))
                .isEqualTo(Files.readString(SystemdUnitIT.SYSTEMD_DIR.resolve("shieldpool.sysusers.conf")));
    }

    @Test
    void controlDataConffilesAndMaintainerScripts() throws Exception {
        assertThat(Files.readAllLines(control.resolve("conffiles"))).containsExactly("/etc/shieldpool/shieldpool.conf");
        String fields = Files.readString(control.resolve("control"));
        assertThat(fields).contains("Package: shieldpool").contains("Architecture: all")
                .containsPattern("(?m)^Depends: openjdk-25-jre-headless \\| java25-runtime-headless");
        // A JVM changed under /usr/lib/jvm makes postinst train a new AOT cache.
        assertThat(Files.readAllLines(control.resolve("triggers"))).contains("interest-noawait /usr/lib/jvm");
        assertThat(Files.readString(control.resolve("postinst"))).contains("triggered)")
                .contains("/usr/share/shieldpool/train-aot --systemd /usr/share/shieldpool/shieldpool.jar /usr/bin/shieldpool")
                .contains("/var/cache/shieldpool/shieldpool.aot");
        assertThat(Files.readString(control.resolve("postrm"))).contains("rm -rf /var/cache/shieldpool");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path path = control.resolve(script);
            assertThat(Files.isExecutable(path)).as(script + " executable").isTrue();
            ToolRun syntax = run(List.of("sh", "-n", path.toString()), Map.of());
            assertThat(syntax.exitCode()).as(script + ": " + syntax.out()).isZero();
            assertThat(Files.readString(path)).as(script).contains("set -e");
            // Never started or enabled against the admin's wishes: no command enables or starts it
            // (advice printed with echo and comments aside).
            String commands = String.join("\n", Files.readAllLines(path).stream()
                    .filter(l -> !l.trim().startsWith("#") && !l.trim().startsWith("echo ")).toList());
            assertThat(commands).as(script).doesNotContainPattern("\\benable\\b|(invoke|systemctl) (re)?start ");
        }
    }

    @Test
    void theConffileListsEveryDefaultCommentedOut() throws Exception {
        String conf = Files.readString(root.resolve("etc/shieldpool/shieldpool.conf"));
        // Nothing is set: an untouched file is the defaults.
        assertThat(ConfigFactory.parseString(conf).hasPath("shieldpool")).isFalse();
        Map<String, String> shown = new HashMap<>();
        Matcher line = Pattern.compile("(?m)^#(shieldpool\\.[a-z.-]+) = (.*)$").matcher(conf);
        while (line.find()) {
            shown.put(line.group(1), line.group(2));
        }
        // why: not defaultReference(), which has this JVM's -Dshieldpool.* system properties mixed in.
        Config reference = ConfigFactory.parseResources("reference.conf").resolve();
        TreeSet<String> keys = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> entry : reference.getConfig("shieldpool").entrySet()) {
            keys.add("shieldpool." + entry.getKey());
        }
        assertThat(shown.keySet()).as("keys in the conffile").containsExactlyInAnyOrderElementsOf(keys);
        for (String key : keys) {
            Object packaged = ConfigFactory.parseString(key + " = " + shown.get(key)).getValue(key).unwrapped();
            assertThat(packaged).as("default of " + key).isEqualTo(reference.getValue(key).unwrapped());
        }
    }

    @Test
    void thePackagedLauncherChecksThePackagedConfig() throws Exception {
        Path conf = root.resolve("etc/shieldpool/shieldpool.conf");
        ToolRun check = run(List.of(root.resolve("usr/bin/shieldpool").toString(), "check-config", conf.toString()),
                Map.of("JAVA_HOME", System.getProperty("java.home")));
        assertThat(check.exitCode()).as(check.out()).isZero();
        assertThat(check.out()).contains("shieldpool.pool.size").contains("TimeoutStopSec");
        // It ran the packaged jar: an invalid edit of the packaged file is caught the same way.
        Files.writeString(conf, Files.readString(conf) + "\nshieldpool.pool.size = -1\n");
        ToolRun bad = run(List.of(root.resolve("usr/bin/shieldpool").toString(), "check-config", conf.toString()),
                Map.of("JAVA_HOME", System.getProperty("java.home")));
        assertThat(bad.exitCode()).as(bad.out()).isEqualTo(78);
        assertThat(bad.out()).contains("shieldpool.pool.size: -1 (expected: an integer from 0 to 2000000) at " + conf);
    }

    @Test
    void thePackagedTrainerBuildsAnAotCacheThePackagedLauncherUses() throws Exception {
        Path jar = root.resolve("usr/share/shieldpool/shieldpool.jar");
        Path launcher = root.resolve("usr/bin/shieldpool");
        Path cache = dir.resolve("var/cache/shieldpool/shieldpool.aot");
        Map<String, String> java = Map.of("JAVA_HOME", System.getProperty("java.home"));
        // What postinst runs, with the unpacked tree's paths.
        ToolRun train = run(List.of(root.resolve("usr/share/shieldpool/train-aot").toString(), jar.toString(),
                launcher.toString(), cache.toString()), java);
        assertThat(train.exitCode()).as(train.out()).isZero();
        assertThat(train.out()).contains("[INFO] AOT cache: " + cache);
        assertThat(cache).isNotEmptyFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache))).isEqualTo("rw-r--r--");

        // AOTMode=on makes the JVM refuse to start on a cache it cannot use, so exit 0 says it used it.
        Path conf = root.resolve("etc/shieldpool/shieldpool.conf");
        Map<String, String> withCache = new HashMap<>(java);
        withCache.put("SHIELDPOOL_AOT_CACHE", cache.toString());
        withCache.put("SHIELDPOOL_JAVA_OPTS", "-XX:AOTMode=on");
        ToolRun used = run(List.of(launcher.toString(), "check-config", conf.toString()), withCache);
        assertThat(used.exitCode()).as(used.out()).isZero();
        // ... and the same check fails on a JVM set up unlike the training run.
        withCache.put("SHIELDPOOL_JAVA_OPTS", "-XX:AOTMode=on -XX:+UseCompactObjectHeaders");
        ToolRun refused = run(List.of(launcher.toString(), "check-config", conf.toString()), withCache);
        assertThat(refused.exitCode()).as(refused.out()).isNotZero();
        assertThat(refused.out()).contains("AOT cache");
    }

    private static ToolRun run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("SHIELDPOOL_JAR");
        builder.environment().remove("SHIELDPOOL_CONFIG");
        builder.environment().putAll(env);
        return ToolRun.of(builder);
    }
}
