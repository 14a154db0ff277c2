package io.shieldpool.jobs.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shieldpool.jobs.JobStoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresPasswordFileTest {

    @TempDir
    Path dir;

    @Test
    void anEmptyPasswordFileIsNamedWithItsKeyAndATrailingNewlineIsNotPartOfThePassword() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThatThrownBy(() -> PostgresSettings.of("postgresql://app@/jobs?host=/run/postgresql").withPasswordFile(empty).connectOptions())
                .isInstanceOf(JobStoreException.class)
                .hasMessage("shieldpool.jobs.postgresql.password-file: " + empty
                        + " (expected: a file whose first line is the password; its first line is empty)");
        Path withNewline = Files.writeString(dir.resolve("pw"), "s3cret\n");
        assertThat(PostgresSettings.of("postgresql://app@/jobs?host=/run/postgresql").withPasswordFile(withNewline).connectOptions()
                .getPassword()).isEqualTo("s3cret");
    }
}
