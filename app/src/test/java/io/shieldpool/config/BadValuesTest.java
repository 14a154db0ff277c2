package io.shieldpool.config;

import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.kinds.exec.ExecSettings;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Values that used to crash the reader (null, a duration past the nanosecond range), be silently
 * truncated (2.5 read as 2) or pass with no upper bound: each is one problem line naming the key,
 * the value, the expectation and file:line. The reader is the one path start-up, reload and
 * check-config share.
 */
class BadValuesTest {

    @TempDir
    Path dir;

    private final ConfigLoader plain = new ConfigLoader(ConfigFactory.empty(), new Properties(), WorkKinds.discover());

    private Path file(String content) throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, content);
        return file;
    }

    private List<String> problems(ConfigLoader loader, Path file) {
        try {
            loader.loadEffective(Optional.of(file));
        } catch (InvalidConfigException e) {
            return e.problems().stream().map(ConfigProblem::toString).toList();
        }
        throw new AssertionError("expected problems for: " + file);
    }

    private List<String> problems(String content) throws Exception {
        return problems(plain, file(content));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "shieldpool.shutdown.grace | a duration such as 250ms, 30s or 2m (0 allowed), at most 365d",
            "shieldpool.pool.size      | an integer from 0 to 2000000",
            "shieldpool.work.type      | demo, exec, http, or a plug-in's type (lower-case letters, digits and '-')",
            "shieldpool.log.level      | one of debug, error, info, trace, warn",
            "shieldpool.admin.host     | an IP address or host name, such as 127.0.0.1, ::1, 0.0.0.0 or localhost",
            "shieldpool.work.exec.command | a list of strings, such as [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]"})
    void nullIsAProblemLineNotACrash(String key, String expected) throws Exception {
        List<String> problems = problems("\n" + key + " = null\n");
        assertThat(problems).first().asString()
                .isEqualTo(key + ": null (expected: " + expected + ") at " + dir.resolve("bad.conf") + ":2");
    }

    @Test
    void nullForAWholeObjectIsAProblemToo() throws Exception {
        assertThat(problems("shieldpool.work.demo = null")).isNotEmpty()
                .allSatisfy(p -> assertThat(p).startsWith("shieldpool.work.demo."));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1000000000d", "106752d", "366d"})
    void durationsPastAYearAreRefusedNotOverflowed(String written) throws Exception {
        assertThat(problems("shieldpool.work.demo.step-duration = " + written)).containsExactly(
                "shieldpool.work.demo.step-duration: " + written + " (expected: a duration such as 250ms, 30s or 2m"
                        + " (0 allowed), at most 365d) at " + dir.resolve("bad.conf") + ":1");
    }

    @Test
    void aYearIsTheLongestDuration() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.of(file("shieldpool.shutdown.grace = 365d")));
        assertThat(config.shutdown().grace()).isEqualTo(Duration.ofDays(365));
    }

    @Test
    void durationsFormatWithoutOverflow() {
        assertThat(Durations.format(Duration.ofNanos(Long.MAX_VALUE))).isEqualTo("2562047h47m16s");
        assertThat(Durations.format(Duration.ofSeconds(Long.MAX_VALUE / 2, 5))).endsWith("s");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofNanos(1500))).isEqualTo("1500ns");
        assertThat(Durations.format(Duration.ofSeconds(-2))).isEqualTo("-2s");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "shieldpool.work.demo.steps = 2.5 | shieldpool.work.demo.steps: 2.5 (expected: an integer >= 1)",
            "shieldpool.pool.size = 3.7       | shieldpool.pool.size: 3.7 (expected: an integer from 0 to 2000000)",
            "shieldpool.admin.port = 0.9      | shieldpool.admin.port: 0.9 (expected: an integer from 0 to 65535)",
            "shieldpool.pool.size = \"3.7\"   | shieldpool.pool.size: 3.7 (expected: an integer from 0 to 2000000)",
            "shieldpool.pool.size = 1000000000d | shieldpool.pool.size: 1000000000d (expected: an integer from 0 to 2000000)"})
    void fractionsAreRefusedNotTruncated(String line, String problem) throws Exception {
        assertThat(problems(line)).containsExactly(problem + " at " + dir.resolve("bad.conf") + ":1");
    }

    @Test
    void wholeNumbersInAnyNotationAreIntegers() throws Exception {
        ShieldpoolConfig config = plain.load(Optional.of(file("shieldpool.pool.size = 4.0\nshieldpool.admin.port = 8e3\n")));
        assertThat(config.pool().size()).isEqualTo(4);
        assertThat(config.admin().port()).isEqualTo(8000);
        ShieldpoolConfig fromEnvironment = new ConfigLoader(ConfigFactory.parseMap(Map.of("shieldpool.pool.size", " 7 "),
                "env variables"), new Properties(), WorkKinds.discover()).load(Optional.empty());
        assertThat(fromEnvironment.pool().size()).isEqualTo(7);
    }

    @Test
    void poolSizeHasAnUpperBound() throws Exception {
        assertThat(problems("shieldpool.pool.size = 2147483647")).containsExactly(
                "shieldpool.pool.size: 2147483647 (expected: an integer from 0 to 2000000) at " + dir.resolve("bad.conf") + ":1");
        assertThat(problems("shieldpool.pool.size = 2000001")).hasSize(1);
        assertThat(problems("shieldpool.pool.size = 99999999999")).hasSize(1);
        assertThat(plain.load(Optional.of(file("shieldpool.pool.size = 2000000"))).pool().size()).isEqualTo(2_000_000);
    }

    @Test
    void eventLoopsAreBoundedByCores() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        assertThat(problems("shieldpool.pool.event-loops = 100000")).containsExactly(
                "shieldpool.pool.event-loops: 100000 (expected: an integer from 0 to " + 8 * cores + " (8 per CPU core, "
                        + cores + " core(s) here; 0 means one per core)) at " + dir.resolve("bad.conf") + ":1");
        assertThat(plain.load(Optional.of(file("shieldpool.pool.event-loops = " + 8 * cores))).pool().eventLoops())
                .isEqualTo(8 * cores);
    }

    @Test
    void aMissingCloseBraceSaysSo() throws Exception {
        assertThat(problems("shieldpool {\n  pool { size = 3 }\n")).singleElement().asString()
                .isEqualTo(dir.resolve("bad.conf") + ": 3: the file ends inside an unclosed '{' (or '[' or include(...)):"
                        + " a closing '}' is missing");
    }

    @Test
    void aMissingRequiredIncludeNamesTheIncludingLine() throws Exception {
        assertThat(problems("shieldpool.pool.size = 2\ninclude required(\"absent.conf\")\n")).singleElement().asString()
                .isEqualTo(dir.resolve("bad.conf") + ":2: include required(\"absent.conf\"): no such file "
                        + dir.resolve("absent.conf") + " (relative names are looked up beside the including file)")
                .doesNotContain("Exception");
    }

    @Test
    void anIncludedDirectoryIsNamedAsOne() throws Exception {
        Files.createDirectory(dir.resolve("conf.d"));
        assertThat(problems("include required(\"conf.d\")\n")).singleElement().asString()
                .isEqualTo(dir.resolve("bad.conf") + ":1: include required(\"conf.d\"): " + dir.resolve("conf.d")
                        + " is a directory (expected: a file; include each file by name)");
    }

    @Test
    void noJavaClassNameInAnyIoMessage() {
        var io = new com.typesafe.config.ConfigException.IO(com.typesafe.config.ConfigOriginFactory.newSimple("/etc/x.conf"),
                "/etc/x.conf: java.io.FileNotFoundException: /etc/x.conf (Permission denied)");
        assertThat(ParseMessages.readable(io.getMessage(), io, Optional.empty()))
                .isEqualTo("/etc/x.conf: /etc/x.conf: /etc/x.conf (Permission denied)");
    }

    @Test
    void anUnreadableFileIsPermissionDenied() throws Exception {
        Path file = file("shieldpool.pool.size = 2\n");
        Files.setPosixFilePermissions(file, java.util.Set.of());
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(file), "root reads every file");
        assertThat(problems(plain, file)).singleElement().asString()
                .startsWith(file + ": cannot read the config file: permission denied");
    }

    @Test
    void listsFromTheEnvironmentAreParsedFromTheirText() throws Exception {
        var env = ConfigFactory.parseMap(Map.of("shieldpool.work.exec.command", "[\"/bin/echo\", \"x\"]",
                "shieldpool.work.type", "exec"), "env variables");
        ShieldpoolConfig config = new ConfigLoader(env, new Properties(), WorkKinds.discover()).load(Optional.empty());
        assertThat(config.work().settings(ExecSettings.class).orElseThrow().command()).containsExactly("/bin/echo", "x");
    }

    @Test
    void aMalformedListFromTheEnvironmentSaysHowToWriteIt() throws Exception {
        var env = ConfigFactory.parseMap(Map.of("shieldpool.work.exec.command", "/bin/echo x"), "env variables");
        List<String> problems = problems(new ConfigLoader(env, new Properties(), WorkKinds.discover()), file(""));
        assertThat(problems).singleElement().asString()
                .startsWith("shieldpool.work.exec.command: \"/bin/echo x\" (expected: ")
                .contains("CONFIG_FORCE_shieldpool_work_exec_command='[\"/bin/echo\",\"x\"]'")
                .endsWith("at env variables");
    }
}
