package io.shieldpool.jobs.postgresql;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resource of named SQL blocks: a line {@code -- :name NAME} starts a block, which runs to the
 * next one; comment lines are dropped. The same format as the SQLite store's files. why: the
 * statements stay readable (and commented) as SQL, not as Java string pieces.
 */
final class SqlStatements {

    private final Map<String, String> blocks;

    private SqlStatements(Map<String, String> blocks) {
        this.blocks = blocks;
    }

    static SqlStatements load(String resource) {
        String text;
        try (InputStream in = SqlStatements.class.getResourceAsStream(resource)) {
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
        return new SqlStatements(blocks);
    }

    /** The statement named {@code name}. */
    String get(String name) {
        String sql = blocks.get(name);
        if (sql == null) {
            throw new IllegalStateException("no statement named " + name);
        }
        return sql;
    }

    Map<String, String> all() {
        return blocks;
    }

    private static String trim(StringBuilder block) {
        String sql = block.toString().strip();
        return sql.endsWith(";") ? sql.substring(0, sql.length() - 1) : sql;
    }
}
