package io.shieldpool.cli;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.view.ExitCode;
import io.shieldpool.config.ConfigAdvice;
import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.logging.LogSetup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code shieldpool check-config FILE}: validates a file with exactly the start-up rules (same
 * layers, so environment overrides and -D count too), prints the effective configuration with
 * where each value came from, and warns about choices that look wrong. Like {@code nginx -t}.
 * The file may also be given as {@code -c/--config FILE}, as to the daemon and every other
 * command, or by {@code $SHIELDPOOL_CONFIG}; two different files is a usage error.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = {"Validate a config file with the start-up rules and print the effective configuration.",
                "Exit 0 when it is valid (warnings included), 78 with one line per problem when not."})
final class CheckConfigCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE",
            description = "the HOCON file to check (or --config FILE; default: $SHIELDPOOL_CONFIG)")
    Path positional;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "the HOCON file to check, as FILE")
    Path option;

    // why: `shieldpool --config FILE check-config` must check FILE, not say that no file was given
    @ParentCommand
    Main parent;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        Path file;
        Path option = this.option != null ? this.option : parent.configFile;
        if (positional != null && option != null && !same(positional, option)) {
            System.err.println(LogSetup.errorPrefix() + "shieldpool: check-config: two files given, " + positional
                    + " and --config " + option + "; give one");
            return ExitCode.USAGE.code;
        } else if (positional != null || option != null) {
            file = positional != null ? positional : option;
        } else {
            Optional<Path> fromEnv = parent.configPath();
            if (fromEnv.isEmpty()) {
                System.err.println(LogSetup.errorPrefix() + "shieldpool: check-config: no file to check: give FILE or "
                        + "--config FILE, or set $SHIELDPOOL_CONFIG");
                return ExitCode.USAGE.code;
            }
            file = fromEnv.get();
        }
        WorkKinds kinds = WorkKinds.discover();
        EffectiveConfig effective;
        try {
            effective = ConfigLoader.forThisProcess(kinds).loadEffective(Optional.of(file));
            kinds.preflight(effective);
        } catch (InvalidConfigException e) {
            Main.printToolProblems(e.problems());
            return ExitCode.CONFIG.code;
        }
        out.println("# effective configuration of " + file + " (value  # origin); secrets masked");
        int width = effective.entries().keySet().stream().mapToInt(String::length).max().orElse(0);
        for (Map.Entry<String, EffectiveConfig.Entry> e : effective.entries().entrySet()) {
            out.printf("%-" + width + "s = %s  # %s%n", e.getKey(), e.getValue().value(), e.getValue().origin());
        }
        List<String> warnings = kinds.advice(effective.config());
        for (String warning : warnings) {
            out.println("warning: " + warning);
        }
        out.println(ConfigAdvice.killWindowNote(effective.config()));
        out.println(file + ": OK" + (warnings.isEmpty() ? "" : " (" + warnings.size() + " warning(s))"));
        return ExitCode.OK.code;
    }

    private static boolean same(Path a, Path b) {
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
