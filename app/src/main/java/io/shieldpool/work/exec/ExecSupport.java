package io.shieldpool.work.exec;

import java.nio.file.Path;
import java.util.Optional;

/** What the exec kind needs from the system, for start-up checks. */
public final class ExecSupport {

    private ExecSupport() {
    }

    /** The setsid program (util-linux) that gives each command its own session and process group. */
    public static Optional<Path> setsid() {
        return ProcessGroups.setsid();
    }
}
