package io.shieldpool.config;

import com.typesafe.config.ConfigException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typesafe Config's parse and include errors, reworded for an operator: no Java class names
 * ("java.io.FileNotFoundException: ..."), a missing include named with the line that includes it,
 * and an unclosed '{' not called "a close parentheses ')'".
 */
final class ParseMessages {

    private static final Pattern CLASS_NAME = Pattern.compile("(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error): ?");
    private static final Pattern INCLUDE = Pattern.compile("include\\s+required\\s*\\(\\s*(?:file\\s*\\(\\s*)?\"([^\"]*)\"");

    private ParseMessages() {
    }

    static String readable(String message, ConfigException e, Optional<Path> file) {
        if (message.contains("not found") || message.contains("Permission denied")) {
            Optional<String> include = missingInclude(message, file);
            if (include.isPresent()) {
                return include.get();
            }
        }
        String text = CLASS_NAME.matcher(message).replaceAll("");
        if (e instanceof ConfigException.Parse && text.contains("expecting a close parentheses ')' here, not: end of file")) {
            text = text.replace("expecting a close parentheses ')' here, not: end of file",
                    "the file ends inside an unclosed '{' (or '[' or include(...)): a closing '}' is missing");
        } else {
            text = text.replace("expecting a close parentheses ')'", "expecting a closing '}', ']' or ')'");
        }
        return text;
    }

    /** "FILE:LINE: include required("x.conf"): no such file (looked for DIR/x.conf)", or empty if it cannot be placed. */
    private static Optional<String> missingInclude(String message, Optional<Path> file) {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file.get());
        } catch (IOException | RuntimeException unreadable) {
            return Optional.empty();
        }
        Path dir = file.get().toAbsolutePath().getParent();
        for (int i = 0; i < lines.size(); i++) {
            Matcher include = INCLUDE.matcher(lines.get(i));
            while (include.find()) {
                String name = include.group(1);
                Path target = dir.resolve(name);
                if (Files.isDirectory(target)) {
                    return Optional.of(file.get() + ":" + (i + 1) + ": include required(\"" + name + "\"): " + target
                            + " is a directory (expected: a file; include each file by name)");
                }
                if (!Files.exists(target) && !name.contains("://")) {
                    return Optional.of(file.get() + ":" + (i + 1) + ": include required(\"" + name + "\"): no such file "
                            + target + " (relative names are looked up beside the including file)");
                }
                if (!Files.isReadable(target)) {
                    return Optional.of(file.get() + ":" + (i + 1) + ": include required(\"" + name + "\"): cannot read "
                            + target + ": permission denied");
                }
            }
        }
        return Optional.empty();
    }
}
