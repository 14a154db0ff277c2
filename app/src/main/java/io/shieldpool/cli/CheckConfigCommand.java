package io.shieldpool.cli;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.view.ExitCode;
import io.shieldpool.config.ConfigAdvice;
import io.shieldpool.kinds.WorkKinds;
import picocli.CommandLine.Command;
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
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = {"Validate a config file with the start-up rules and print the effective configuration.",
                "Exit 0 when it is valid (warnings included), 78 with one line per problem when not."})
final class CheckConfigCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the HOCON file to check")
    Path file;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        WorkKinds kinds = WorkKinds.discover();
        EffectiveConfig effective;
        try {
            effective = ConfigLoader.forThisProcess(kinds).loadEffective(Optional.of(file));
            kinds.preflight(effective);
        } catch (InvalidConfigException e) {
            Main.printProblems(e.problems());
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
}
