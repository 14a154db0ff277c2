package io.shieldpool.jobs.sqlite;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resource of named SQL blocks: a line {@code -- :name NAME} starts a block, which runs to the
 * next one. why: the statements stay readable (and commented) as SQL, not as Java string pieces.
 */
final class SqlFile {

    private SqlFile() {
    }

    /** The blocks of {@code resource} (next to this class) by name, in file order, trailing ';' removed. */
    static Map<String, String> load(String resource) {
        String text;
        try (InputStream in = SqlFile.class.getResourceAsStream(resource)) {
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
