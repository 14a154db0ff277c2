package io.shieldpool.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Command-line mistakes answered with one line naming the option, and the right exit code. */
class SmallMistakesTest {

    @TempDir
    Path dir;

    /** Runs a command line; returns its exit code and, after a tab, all it wrote to stderr. */
    private static String run(String... args) {
        PrintStream before = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter picocliErr = new StringWriter();
        int code;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            var line = Main.commandLine();
            line.setErr(new PrintWriter(picocliErr, true));
            code = line.execute(args);
        } finally {
            System.setErr(before);
        }
        return code + "\t" + picocliErr + captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anEmptyConfigFileNameIsAUsageErrorNamingTheOption() {
        for (String[] args : new String[][]{{"--config", ""}, {"--config="}, {"status", "--config", ""},
                {"enqueue", "--config", "", "1"}}) {
            assertThat(run(args)).as(String.join(" ", args)).startsWith("64\t")
                    .contains("'--config'").contains("'' (expected: a file name)").doesNotContain("config error");
        }
    }

    @Test
    void anEmptyUniqueKeyIsRefusedAsPostJobsRefusesIt() {
        assertThat(run("enqueue", "--key", "", "1"))
                .isEqualTo("64\tshieldpool: --key: \"\" (expected: a non-empty key, or no --key)\n");
    }

    @Test
    void aToolsConfigErrorDoesNotSayNotStarted() {
        String out = run("status", "--config", dir.toString());
        assertThat(out).startsWith("78\t").doesNotContain("not started").endsWith("configuration problem(s) (exit 78)\n");
    }

    @Test
    void aBadPayloadIsShownEscapedAndCut() {
        assertThat(EnqueueCommand.shown("\u001b[31mred\u0000\u202e\ufffd")).isEqualTo("\\u001b[31mred\\u0000\\u202e\\ufffd");
        String shown = EnqueueCommand.shown("x".repeat(500));
        assertThat(shown).hasSize(EnqueueCommand.SHOWN_MAX).endsWith("...");
        assertThat(EnqueueCommand.shown("\u0001".repeat(100))).hasSize(EnqueueCommand.SHOWN_MAX).endsWith("...");
        assertThat(EnqueueCommand.shown("{\"id\": 1")).isEqualTo("{\"id\": 1");
    }
}
