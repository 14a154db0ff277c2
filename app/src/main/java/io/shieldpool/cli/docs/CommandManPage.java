package io.shieldpool.cli.docs;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * shieldpool(1), written from the picocli model the command line itself is parsed with: every
 * subcommand, option, parameter and exit code the program knows appears, and nothing else can.
 * why not picocli-codegen's ManPageGenerator: it writes AsciiDoc, and turning that into troff
 * needs Asciidoctor (Ruby, or some 40 MB of JRuby in the build).
 */
final class CommandManPage {

    private CommandManPage() {
    }

    static String render(CommandLine root, String version, String date) {
        CommandSpec spec = root.getCommandSpec();
        Troff man = new Troff();
        man.raw(".\\\" Generated at build time from the picocli model (io.shieldpool.cli.docs); do not edit.");
        man.request("TH", "SHIELDPOOL", "1", date, "shieldpool " + version, "User Commands");
        man.request("SH", "NAME");
        man.raw("shieldpool \\- " + Troff.escape(firstSentence(spec)));
        man.request("SH", "SYNOPSIS");
        for (CommandSpec command : allCommands(spec)) {
            man.raw(synopsis(command)).request("br");
        }
        man.request("SH", "DESCRIPTION");
        describe(man, spec, true);
        man.request("SH", "OPTIONS");
        options(man, spec);
        man.request("SH", "COMMANDS");
        for (CommandSpec command : allCommands(spec)) {
            if (command == spec) {
                continue;
            }
            man.request("SS", command.qualifiedName(" "));
            man.raw(synopsis(command)).request("PP");
            describe(man, command, false);
            options(man, command);
            exitCodes(man, command, "Exit codes:");
        }
        man.request("SH", "EXIT STATUS");
        exitCodes(man, spec, null);
        man.request("PP").text("Each command lists its own exit codes under COMMANDS.");
        List<String> footer = Arrays.stream(spec.usageMessage().footer()).filter(l -> !l.isBlank()).toList();
        if (!footer.isEmpty()) {
            man.request("SH", "SIGNALS");
            footer.forEach(man::text);
        }
        man.request("SH", "ENVIRONMENT");
        environment(man);
        man.request("SH", "FILES");
        man.item(Troff.italic("/etc/shieldpool/shieldpool.conf"), List.of("The configuration file of the packaged service; see "
                + "shieldpool.conf(5)."));
        man.item(Troff.italic("/usr/lib/systemd/system/shieldpool.service"), List.of("The systemd unit. Change it with "
                + "systemctl edit shieldpool."));
        man.item(Troff.italic("/var/cache/shieldpool/shieldpool.aot"), List.of("The AOT cache the package trains at install "
                + "time, for a faster start."));
        man.item(Troff.italic("/usr/share/doc/shieldpool/README.md"), List.of("The full documentation: events, metrics, "
                + "the admin endpoints, work kinds and plug-ins."));
        man.request("SH", "SEE ALSO");
        man.raw("\\fBshieldpool.conf\\fR(5), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1), \\fBsystemd.service\\fR(5)");
        return man.page();
    }

    /** The command and its subcommands, depth first, in the order they were declared. */
    static List<CommandSpec> allCommands(CommandSpec spec) {
        List<CommandSpec> all = new ArrayList<>();
        all.add(spec);
        for (CommandLine sub : spec.subcommands().values()) {
            for (CommandSpec s : allCommands(sub.getCommandSpec())) {
                if (!all.contains(s)) {
                    all.add(s);
                }
            }
        }
        return all;
    }

    private static String firstSentence(CommandSpec spec) {
        String first = spec.usageMessage().description()[0];
        first = first.endsWith(".") ? first.substring(0, first.length() - 1) : first;
        return Character.toLowerCase(first.charAt(0)) + first.substring(1);
    }

    private static String synopsis(CommandSpec command) {
        CommandLine.Help help = new CommandLine.Help(command, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        String text = help.synopsis(0).strip();
        String name = command.qualifiedName(" ");
        String rest = text.startsWith(name) ? text.substring(name.length()) : " " + text;
        return Troff.bold(name) + Troff.escape(rest.replaceAll("\\s+", " "));
    }

    private static void describe(Troff man, CommandSpec command, boolean skipFirst) {
        String[] description = command.usageMessage().description();
        for (int i = skipFirst ? 1 : 0; i < description.length; i++) {
            man.text(description[i]);
        }
    }

    private static void options(Troff man, CommandSpec command) {
        for (PositionalParamSpec p : command.positionalParameters()) {
            if (!p.hidden()) {
                man.item(Troff.italic(p.paramLabel()), List.of(p.renderedDescription()));
            }
        }
        for (OptionSpec option : command.options()) {
            if (option.hidden()) {
                continue;
            }
            StringBuilder term = new StringBuilder();
            for (String name : option.names()) {
                term.append(term.isEmpty() ? "" : ", ").append(Troff.bold(name));
            }
            if (option.arity().max() > 0) {
                term.append(' ').append(Troff.italic(option.paramLabel()));
            }
            man.item(term.toString(), List.of(option.renderedDescription()));
        }
    }

    private static void exitCodes(Troff man, CommandSpec command, String heading) {
        Map<String, String> codes = command.usageMessage().exitCodeList();
        if (codes.isEmpty()) {
            return;
        }
        if (heading != null) {
            man.request("PP").text(heading);
        }
        codes.forEach((code, meaning) -> man.item(Troff.bold(code.strip()), List.of(meaning)));
    }

    private static void environment(Troff man) {
        man.item(Troff.bold("SHIELDPOOL_CONFIG"), List.of("The config file when no --config is given."));
        man.item(Troff.bold("CONFIG_FORCE_shieldpool_pool_size") + "=8, ...", List.of("Overrides one key of the "
                + "configuration: \"_\" stands for \".\", \"__\" for \"-\". Wins over the file; best for secrets "
                + "(shieldpool.admin.token)."));
        man.item(Troff.bold("SHIELDPOOL_JAVA_OPTS"), List.of("Extra JVM flags, after the launcher's own (so they win); "
                + "-Dshieldpool.pool.size=8 overrides a key too."));
        man.item(Troff.bold("JAVA_HOME"), List.of("The Java runtime (>= 25) to use; else java on PATH, else one under "
                + "/usr/lib/jvm."));
        man.item(Troff.bold("SHIELDPOOL_JAR"), List.of("The jar to run instead of the one the launcher finds."));
        man.item(Troff.bold("SHIELDPOOL_AOT_CACHE"), List.of("The AOT cache file to use; \"none\" starts without one."));
        man.item(Troff.bold("JOURNAL_STREAM") + ", " + Troff.bold("NOTIFY_SOCKET"), List.of("Set by systemd: log lines "
                + "then carry syslog priorities, and the daemon reports readiness, status and watchdog pings."));
    }
}
