package io.shieldpool.realsystemd;

import java.nio.file.Path;
import java.util.List;

/**
 * Debian 13 (trixie), systemd 257. Its openjdk-25-jre-headless is in the root file system
 * (debootstrap --include: the container has no network), so the package installs with its real
 * dependencies.
 */
class Debian13SystemdIT extends RealSystemdSuite {

    @Override
    String suite() {
        return "trixie";
    }

    @Override
    int systemdVersion() {
        return 257;
    }

    @Override
    List<Path> hostDirectories() {
        return List.of();
    }

    @Override
    String dpkgOptions() {
        return "";
    }
}
