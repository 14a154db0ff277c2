package io.shieldpool.logging;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's event table names every event the daemon's code logs, so operators can alert on it. */
class EventTableTest {

    private static final Pattern LOGGED = Pattern.compile("addKeyValue\\(\"event\", \"([a-z][a-z.-]+)\"");

    @Test
    void everyLoggedEventIsInTheReadmeTable() throws IOException {
        Set<String> logged = new TreeSet<>();
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path source : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = LOGGED.matcher(Files.readString(source));
                while (m.find()) {
                    logged.add(m.group(1));
                }
            }
        }
        logged.add(JsonLineEncoder.LIBRARY_EVENT);
        logged.add("plugin.log"); // SectionLogger.EVENT, package-private in kinds.plugin
        assertThat(logged).as("events found in the sources").contains("section.end", "shutdown.complete");

        String readme = Files.readString(Path.of(System.getProperty("shieldpool.readme", "../README.md")));
        String table = readme.substring(readme.indexOf("| event | level | fields |"));
        table = table.substring(0, table.indexOf("\n\n"));
        Set<String> missing = new TreeSet<>();
        for (String event : logged) {
            if (!table.contains("`" + event + "`")) {
                missing.add(event);
            }
        }
        assertThat(missing).as("events logged but missing from the README's event table").isEmpty();
    }
}
