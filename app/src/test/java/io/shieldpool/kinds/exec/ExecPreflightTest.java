package io.shieldpool.kinds.exec;

import com.typesafe.config.ConfigFactory;
import io.shieldpool.config.ConfigLoader;
import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** exec on a C library without the functions it calls is a one-line configuration error, found before start. */
class ExecPreflightTest {

    @TempDir
    Path dir;

    private EffectiveConfig exec() throws Exception {
        Path file = dir.resolve("exec.conf");
        Files.writeString(file, """
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["true"]
                """);
        return new ConfigLoader(ConfigFactory.empty(), new Properties(), WorkKinds.discover()).loadEffective(Optional.of(file));
    }

    @Test
    void thisMachinesGlibcRunsExec() throws Exception {
        assertThat(ExecWork.platformProblem()).isEmpty();
        assertThat(WorkKinds.discover().preflight(exec())).isNotNull();
    }

    @Test
    void aMissingCFunctionNamesTheGlibcRequirementAndWorkTypeOnOneLine() throws Exception {
        EffectiveConfig effective = exec();
        InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class, () -> new ExecKind(
                () -> Optional.of("posix_spawn_file_actions_addclosefrom_np is missing from the C library "
                        + "(the exec kind needs glibc 2.34 or newer)")).preflight(effective, java.util.List.of("demo")));
        assertThat(e.problems()).map(ConfigProblem::toString).containsExactly("shieldpool.work.type: exec (expected: a "
                + "kind this system can run; posix_spawn_file_actions_addclosefrom_np is missing from the C library "
                + "(the exec kind needs glibc 2.34 or newer)) at " + dir.resolve("exec.conf") + ":1");
    }
}
