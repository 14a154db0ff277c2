package io.shieldpool.e2e;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.shieldpool.cli.Main;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The .deb as Debian's tools see it: lintian finds no error and no warning that is not overridden
 * with a reason; the man pages shieldpool(1) and shieldpool.conf(5) name every subcommand, option
 * and config key and render without a groff warning; the bash completion completes subcommands;
 * copyright and changelog are where Debian wants them.
 *
 * <p>Needs dpkg-deb, lintian and man ({@code .ci/run} installs lintian); a missing tool skips, visibly.
 */
@Timeout(180)
class DebianPackageDocsIT {

    private static final Path DEB = Path.of(System.getProperty("shieldpool.deb", "target/shieldpool.deb"));

    @TempDir
    Path dir;

    private Path root;
    private Path control;

    @BeforeEach
    void unpack() throws Exception {
        requireTool("dpkg-deb");
        assertThat(DEB).as("mvn package builds the .deb").isRegularFile();
        root = dir.resolve("root");
        control = dir.resolve("DEBIAN");
        ToolRun x = run("dpkg-deb", "-x", DEB.toString(), root.toString());
        assertThat(x.exitCode()).as(x.out()).isZero();
        ToolRun e = run("dpkg-deb", "-e", DEB.toString(), control.toString());
        assertThat(e.exitCode()).as(e.out()).isZero();
    }

    @Test
    void lintianFindsNoErrorAndNoWarningWithoutAnOverride() throws Exception {
        requireTool("lintian");
        // --fail-on none: the verdict is ours, from the tags; overridden tags are not printed.
        ToolRun lintian = run("lintian", "--fail-on", "none", "--no-tag-display-limit", DEB.toString());
        List<String> tags = lintian.out().lines().filter(l -> l.matches("^[EWIPXO]: .*")).toList();
        assertThat(tags).as("lintian's output:\n" + lintian.out()).noneMatch(t -> t.startsWith("E: ") || t.startsWith("W: "));
        // Each override carries a comment saying why.
        List<String> overrides = Files.readAllLines(root.resolve("usr/share/lintian/overrides/shieldpool"));
        for (int i = 0; i < overrides.size(); i++) {
            if (overrides.get(i).startsWith("shieldpool: ")) {
                assertThat(i).as("an override has a reason above it: " + overrides.get(i)).isPositive();
                assertThat(overrides.get(i - 1)).as("the line above " + overrides.get(i)).startsWith("# ");
            }
        }
        assertThat(overrides).anyMatch(l -> l.startsWith("shieldpool: "));
    }

    @Test
    void theCommandManPageNamesEverySubcommandAndOption() throws Exception {
        String page = gunzip(root.resolve("usr/share/man/man1/shieldpool.1.gz"));
        String text = rendered(root.resolve("usr/share/man/man1/shieldpool.1.gz"));
        assertThat(text).contains("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO");
        List<CommandSpec> commands = commands(Main.commandLine().getCommandSpec());
        assertThat(commands).hasSizeGreaterThan(2);
        for (CommandSpec command : commands) {
            if (command.parent() != null) {
                assertThat(page).as("subcommand " + command.qualifiedName(" "))
                        .contains(".SS \"" + command.qualifiedName(" ") + "\"");
            }
            for (OptionSpec option : command.options()) {
                assertThat(text).as(command.qualifiedName(" ") + " " + option.longestName()).contains(option.longestName());
            }
            command.usageMessage().exitCodeList().keySet().forEach(code ->
                    assertThat(text).as("exit code " + code.strip()).containsPattern("(?m)^\\s+" + code.strip() + "\\s"));
        }
    }

    @Test
    void theConfigManPageNamesEveryKeyWithItsDefault() throws Exception {
        String text = rendered(root.resolve("usr/share/man/man5/shieldpool.conf.5.gz"));
        // reference.conf walked here on its own, empty objects (environment {}, headers {}) included.
        List<String> keys = new ArrayList<>();
        leaves("shieldpool", (ConfigObject) ConfigFactory.parseResources("reference.conf").root().get("shieldpool"), keys);
        assertThat(keys).contains("shieldpool.pool.size", "shieldpool.work.exec.environment", "shieldpool.admin.token");
        for (String key : keys) {
            assertThat(text).as(key).containsPattern("(?m)^\\s+" + Pattern.quote(key) + " = ");
        }
        // The same number of keys, none documented that the daemon does not read.
        String keysSection = text.substring(text.indexOf("\nKEYS\n"), text.indexOf("\nEXAMPLE\n"));
        Matcher documented = Pattern.compile("(?m)^\\s+(shieldpool\\.[a-z.-]+) = ").matcher(keysSection);
        int count = 0;
        while (documented.find()) {
            assertThat(keys).as("documented key").contains(documented.group(1));
            count++;
        }
        assertThat(count).isEqualTo(keys.size());
        assertThat(text).containsPattern("shieldpool\\.pool\\.size = 3\\s+Number of workers");
    }

    @Test
    void bashCompletionCompletesTheSubcommands() throws Exception {
        Path completion = root.resolve("usr/share/bash-completion/completions/shieldpool");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(completion))).isEqualTo("rw-r--r--");
        // What bash does on "shieldpool st<TAB>" once bash-completion has loaded the file.
        String script = "source \"$1\"; COMP_WORDS=(shieldpool st); COMP_CWORD=1; COMP_LINE='shieldpool st'; "
                + "COMP_POINT=${#COMP_LINE}; $(complete -p shieldpool | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p') shieldpool st shieldpool; "
                + "printf '%s\\n' \"${COMPREPLY[@]}\"";
        ToolRun bash = run("bash", "-c", script, "bash", completion.toString());
        assertThat(bash.exitCode()).as(bash.out()).isZero();
        assertThat(bash.out().lines()).as(bash.out()).contains("status");
    }

    @Test
    void copyrightAndChangelogAreWhereDebianWantsThem() throws Exception {
        for (String file : List.of("usr/share/man/man1/shieldpool.1.gz", "usr/share/man/man5/shieldpool.conf.5.gz",
                "usr/share/bash-completion/completions/shieldpool", "usr/share/doc/shieldpool/copyright",
                "usr/share/doc/shieldpool/changelog.gz", "usr/share/lintian/overrides/shieldpool")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(file)))).as(file)
                    .isEqualTo("rw-r--r--");
        }
        String copyright = Files.readString(root.resolve("usr/share/doc/shieldpool/copyright"));
        assertThat(copyright).startsWith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/");
        String version = Files.readAllLines(control.resolve("control")).stream()
                .filter(l -> l.startsWith("Version: ")).findFirst().orElseThrow().substring("Version: ".length());
        String changelog = gunzip(root.resolve("usr/share/doc/shieldpool/changelog.gz"));
        assertThat(changelog).startsWith("shieldpool (" + version + ") ");
        assertThat(Files.readString(control.resolve("control"))).doesNotContainPattern("(?m)^Depends:.*\\bbash\\b")
                .doesNotContain("@localhost");
    }

    private static List<CommandSpec> commands(CommandSpec spec) {
        List<CommandSpec> all = new ArrayList<>(List.of(spec));
        for (CommandLine sub : spec.subcommands().values()) {
            all.addAll(commands(sub.getCommandSpec()));
        }
        return all;
    }

    private static void leaves(String path, ConfigObject object, List<String> keys) {
        for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
            ConfigValue value = e.getValue();
            if (value.valueType() == ConfigValueType.OBJECT && !((ConfigObject) value).isEmpty()) {
                leaves(path + "." + e.getKey(), (ConfigObject) value, keys);
            } else {
                keys.add(path + "." + e.getKey());
            }
        }
    }

    /** The page as man shows it, 200 columns wide; groff's warnings fail the test. */
    private ToolRun manRun(Path page) throws Exception {
        requireTool("man");
        ProcessBuilder builder = new ProcessBuilder("man", "--warnings", "-E", "UTF-8", "-l", page.toString());
        builder.environment().put("MANWIDTH", "200");
        builder.environment().put("MAN_KEEP_FORMATTING", "");
        builder.environment().put("LC_ALL", "C.UTF-8");
        builder.redirectError(dir.resolve("man-warnings.txt").toFile());
        return ToolRun.of(builder);
    }

    private String rendered(Path page) throws Exception {
        ToolRun man = manRun(page);
        assertThat(man.exitCode()).as(man.out()).isZero();
        assertThat(Files.readString(dir.resolve("man-warnings.txt"))).as("groff warnings for " + page).isEmpty();
        // man prints bold and underlined text with backspaces when not on a terminal
        return man.out().replaceAll(".\b", "").replace('\u2010', '-');
    }

    private static String gunzip(Path file) throws Exception {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void requireTool(String tool) throws Exception {
        boolean present = run("sh", "-c", "command -v " + tool).exitCode() == 0;
        if (!present) {
            System.err.println("SKIPPED DebianPackageDocsIT: " + tool + " is not installed (.ci/run installs it)");
        }
        Assumptions.assumeTrue(present, tool + " is not installed");
    }

    private static ToolRun run(String... command) throws Exception {
        return ToolRun.of(new ProcessBuilder(command));
    }
}
