package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.SqlFile;

import java.util.Map;

/**
 * A resource of named SQL blocks: a line {@code -- :name NAME} starts a block, which runs to the
 * next one ({@link SqlFile}), looked up by name.
 */
final class SqlStatements {

    private final Map<String, String> blocks;

    private SqlStatements(Map<String, String> blocks) {
        this.blocks = blocks;
    }

    static SqlStatements load(String resource) {
        return new SqlStatements(SqlFile.load(SqlStatements.class, resource));
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
