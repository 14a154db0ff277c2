package io.shieldpool.realsystemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The package this build made, repacked with a higher version: what an upgrade in place installs. */
final class UpgradePackage {

    static final String SUFFIX = "+upgrade1";

    private UpgradePackage() {
    }

    static synchronized Path of(Path deb, Path workDir) throws IOException {
        Path out = workDir.toAbsolutePath().resolve("shieldpool-upgrade.deb");
        if (Files.exists(out) && !Files.getLastModifiedTime(out).toInstant().isBefore(Files.getLastModifiedTime(deb).toInstant())) {
            return out;
        }
        Path tree = workDir.toAbsolutePath().resolve("upgrade-tree");
        Exec.run(List.of("rm", "-rf", tree.toString()), null, Duration.ofSeconds(30)).ok();
        Files.createDirectories(workDir);
        Exec.run(List.of("dpkg-deb", "-R", deb.toAbsolutePath().toString(), tree.toString()), null, Duration.ofSeconds(60)).ok();
        Path control = tree.resolve("DEBIAN/control");
        String text = Files.readString(control).replaceFirst("(?m)^(Version: .*)$", "$1" + SUFFIX);
        Files.writeString(control, text);
        // why gzip -1: the jar inside is compressed already; xz would spend ~10 s on it for nothing.
        Exec.run(List.of("dpkg-deb", "-Zgzip", "-z1", "-b", tree.toString(), out.toString()), null, Duration.ofSeconds(120)).ok();
        Exec.run(List.of("rm", "-rf", tree.toString()), null, Duration.ofSeconds(30));
        return out;
    }
}
