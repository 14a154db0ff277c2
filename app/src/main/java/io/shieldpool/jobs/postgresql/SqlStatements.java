package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.SqlFile;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A resource of named SQL blocks: a line {@code -- :name NAME} starts a block, which runs to the
 * next one ({@link SqlFile}), looked up by name. A block may include another one (a fragment
 * written once for several statements) as {@code {{NAME}}}: the loader puts that block's text in
 * its place, once, at load time, so the server sees plain SQL. Fragments include no fragment.
 */
final class SqlStatements {

    private static final Pattern INCLUDE = Pattern.compile("\\{\\{([a-z0-9-]+)}}");

    private final Map<String, String> blocks;

    private SqlStatements(Map<String, String> blocks) {
        this.blocks = blocks;
    }

    static SqlStatements load(String resource) {
        return new SqlStatements(composed(resource, SqlFile.load(SqlStatements.class, resource)));
    }

    /** Every block with its includes replaced by the blocks they name. */
    static Map<String, String> composed(String resource, Map<String, String> blocks) {
        Map<String, String> composed = new LinkedHashMap<>();
        blocks.forEach((name, sql) -> {
            Matcher include = INCLUDE.matcher(sql);
            StringBuilder text = new StringBuilder();
            while (include.find()) {
                String fragment = blocks.get(include.group(1));
                if (fragment == null || INCLUDE.matcher(fragment).find()) {
                    throw new IllegalStateException(resource + ": block " + name + " includes " + include.group()
                            + (fragment == null ? ", which is not a block of that file" : ", which includes another block"));
                }
                include.appendReplacement(text, Matcher.quoteReplacement(fragment));
            }
            include.appendTail(text);
            composed.put(name, text.toString());
        });
        return composed;
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
}
