package io.shieldpool.realsystemd;

import java.nio.file.Path;
import java.util.List;

/**
 * Debian 12 (bookworm), systemd 252: no Type=notify-reload, no RestartSteps=. Debian 12 has no
 * Java 25, so the host's JDK 25 (the one running this test) is bound into the container at the
 * same path under /usr/lib/jvm, where the launcher looks, and the package is installed with
 * {@code --force-depends}.
 */
class Debian12SystemdIT extends RealSystemdSuite {

    @Override
    String suite() {
        return "bookworm";
    }

    @Override
    int systemdVersion() {
        return 252;
    }

    @Override
    List<Path> hostDirectories() {
        return List.of(Path.of(System.getProperty("java.home")));
    }

    @Override
    String dpkgOptions() {
        return "--force-depends";
    }
}
