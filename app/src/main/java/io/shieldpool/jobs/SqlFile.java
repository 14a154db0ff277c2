package io.shieldpool.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resource of named SQL blocks: a line {@code -- :name NAME} starts a block, which runs to the
 * next one; comment lines are dropped. Every store keeps its SQL in such files. why: the statements
 * stay readable (and commented) as SQL, not as Java string pieces.
 */
public final class SqlFile {

    private SqlFile() {
    }

    /** The blocks of {@code resource} (next to {@code owner}) by name, in file order, trailing ';' removed. */
    public static Map<String, String> load(Class<?> owner, String resource) {
        String text;
        try (InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> blocks = new LinkedHashMap<>();
        String name = null;
        StringBuilder block = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("-- :name ")) {
                if (name != null) {
                    blocks.put(name, trim(block));
                }
                name = line.substring("-- :name ".length()).trim();
                block.setLength(0);
            } else if (name != null && !line.startsWith("--")) {
                block.append(line).append('\n');
            }
        }
        if (name != null) {
            blocks.put(name, trim(block));
        }
        return blocks;
    }

    private static String trim(StringBuilder block) {
        String sql = block.toString().strip();
        return sql.endsWith(";") ? sql.substring(0, sql.length() - 1) : sql;
    }
}
