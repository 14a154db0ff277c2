package io.shieldpool.cli.docs;

import io.shieldpool.cli.Main;
import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Build step (run by {@code mvn package}, before the .deb is made): writes the man pages
 * shieldpool(1) and shieldpool.conf(5), the bash completion script and the Debian changelog into
 * a directory, from the same model and reference.conf the program uses.
 *
 * <p>Arguments: output directory, the Maven project version, the changelog template (its {@code @VERSION@} is
 * replaced). The pages' date is {@code $SOURCE_DATE_EPOCH} when set (reproducible builds), else now.
 */
public final class PackageDocs {

    private PackageDocs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: PackageDocs OUTPUT-DIR MAVEN-VERSION CHANGELOG-TEMPLATE");
            System.exit(64);
        }
        Path out = Path.of(args[0]);
        String version = debianVersion(args[1]);
        String date = date();
        CommandLine commandLine = Main.commandLine();
        Troff.writeGzip(out.resolve("shieldpool.1.gz"), CommandManPage.render(commandLine, version, date));
        Troff.writeGzip(out.resolve("shieldpool.conf.5.gz"), ConfigManPage.render(version, date));
        // why: bash-completion sources the file, it is not run: no hashbang (lintian
        // bash-completion-with-hashbang).
        String completion = AutoComplete.bash("shieldpool", commandLine).replaceFirst("\\A#!.*\\R", "");
        Files.writeString(out.resolve("shieldpool.bash-completion"), completion, StandardCharsets.UTF_8);
        String changelog = Files.readString(Path.of(args[2])).replace("@VERSION@", version);
        Troff.writeGzip(out.resolve("changelog.gz"), changelog);
    }

    /** The Maven version as jdeb writes it into the control file: 0.1.0-SNAPSHOT is 0.1.0~snapshot. */
    static String debianVersion(String mavenVersion) {
        return mavenVersion.replaceFirst("(?i)[-+]SNAPSHOT$", "~SNAPSHOT").replace('-', '+').toLowerCase(Locale.ROOT);
    }

    private static String date() {
        String epoch = System.getenv("SOURCE_DATE_EPOCH");
        Instant when = epoch == null || epoch.isBlank() ? Instant.now() : Instant.ofEpochSecond(Long.parseLong(epoch.strip()));
        return DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT).withZone(ZoneOffset.UTC).format(when);
    }
}
