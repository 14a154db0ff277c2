package io.shieldpool.kinds.exec;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A C library without a function exec needs: the error says which one and which glibc is needed. */
class SessionSpawnTest {

    @Test
    void aMissingFunctionIsALinkageErrorNamingItAndTheGlibcVersion() {
        assertThatThrownBy(() -> SessionSpawn.symbol(name -> Optional.empty(), "posix_spawn_file_actions_addclosefrom_np"))
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessage("posix_spawn_file_actions_addclosefrom_np is missing from the C library "
                        + "(the exec kind needs glibc 2.34 or newer)");
    }

    @Test
    void thePreflightReportsTheInitializersErrorInOneLineOnFirstAndLaterTouches() {
        UnsatisfiedLinkError missing = new UnsatisfiedLinkError("posix_spawn_file_actions_addchdir_np is missing "
                + "from the C library (the exec kind needs glibc 2.34 or newer)");
        assertThat(ExecWork.platformProblem(() -> {
            throw missing;
        })).contains(missing.getMessage());
        // What a later touch of a class whose initializer failed throws (JDK 17+): the original
        // error survives only as text in the cause.
        NoClassDefFoundError later = new NoClassDefFoundError("Could not initialize class io.shieldpool.kinds.exec.SessionSpawn");
        later.initCause(new ExceptionInInitializerError("Exception " + missing + " [in thread \"main\"]"));
        assertThat(ExecWork.platformProblem(() -> {
            throw later;
        })).hasValueSatisfying(line -> assertThat(line).contains(missing.getMessage()).doesNotContain("\n"));
    }
}
