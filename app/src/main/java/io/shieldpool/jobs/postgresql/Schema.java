package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Creates and migrates the schema ({@code schema.sql}): in one transaction, under a
 * transaction-scoped advisory lock, so daemons starting at once (and {@code shieldpool jobs
 * migrate}) never migrate twice, and nothing depends on a session outliving the transaction
 * (PgBouncer in transaction mode).
 */
final class Schema {

    private static final Logger log = LoggerFactory.getLogger(Schema.class);

    /** The newest schema version this build knows ({@code schema.sql}'s last block). */
    static final int VERSION = 6;
    /** The advisory lock key migrations take: any constant no other application uses. */
    private static final long MIGRATION_LOCK = 7235019810L;

    private Schema() {
    }

    /** Migrates to {@link #VERSION}; the future holds the version found before (0: a new database). */
    static Future<Integer> migrate(Pool pool, String safeUrl) {
        SqlStatements schema = SqlStatements.load("schema.sql");
        return pool.withTransaction(c -> c.query("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")").execute()
                // why look first: CREATE TABLE IF NOT EXISTS still needs CREATE on the schema, so a role with
                // only the tables' rights (a schema migrated by its owner) could not open a current store.
                .compose(v -> c.query("SELECT to_regclass('shieldpool_schema') IS NOT NULL").execute())
                .compose(rows -> rows.iterator().next().getBoolean(0) ? Future.<Void>succeededFuture()
                        : c.query("CREATE TABLE IF NOT EXISTS shieldpool_schema (version integer NOT NULL,"
                                + " migrated_at timestamptz NOT NULL DEFAULT now())").execute().<Void>mapEmpty())
                .compose(v -> c.query("SELECT coalesce(max(version), 0) FROM shieldpool_schema").execute())
                .compose(rows -> {
                    int found = rows.iterator().next().getInteger(0);
                    if (found > VERSION) {
                        return Future.failedFuture(new JobStoreException(JobStoreException.Kind.UNUSABLE,
                                "the job store " + safeUrl + " has schema version " + found
                                        + ", newer than this shieldpool knows (" + VERSION + "): run the newer shieldpool"));
                    }
                    Future<Void> chain = Future.succeededFuture();
                    for (int next = found + 1; next <= VERSION; next++) {
                        int version = next;
                        for (String statement : statements(schema.get(Integer.toString(version)))) {
                            chain = chain.compose(v -> c.query(statement).execute().mapEmpty());
                        }
                        chain = chain.compose(v -> c.query("INSERT INTO shieldpool_schema (version) VALUES (" + version + ")")
                                .execute().<Void>mapEmpty()).onSuccess(v -> log.atInfo().addKeyValue("event", "jobs.schema")
                                .addKeyValue("url", safeUrl).addKeyValue("version", version)
                                .log("job store {}: schema version {}", safeUrl, version));
                    }
                    return chain.map(found);
                }));
    }

    /**
     * The statements of a block, cut at each semicolon outside a quoted string ('...', E'...'),
     * a quoted identifier ("..."), a comment (-- to the end of the line, or a block comment, which
     * nests as in PostgreSQL) and a dollar-quoted string ($$ ... $$ or $tag$ ... $tag$: a
     * function's body, whose own statements end with semicolons). A piece with nothing but blanks
     * and comments is no statement. why not a split at ";" and a line end, as before: it cuts
     * schema 6's function bodies apart.
     */
    static List<String> statements(String block) {
        List<String> statements = new ArrayList<>();
        int start = 0;
        boolean code = false;
        int i = 0;
        while (i < block.length()) {
            char c = block.charAt(i);
            int end = i + 1;
            if (c == '\'' || c == '"') {
                boolean escapes = c == '\'' && i > 0 && (block.charAt(i - 1) == 'E' || block.charAt(i - 1) == 'e')
                        && (i < 2 || !isIdentifierPart(block.charAt(i - 2)));
                end = closingQuote(block, i, c, escapes);
            } else if (c == '-' && block.startsWith("--", i)) {
                int eol = block.indexOf('\n', i);
                end = eol < 0 ? block.length() : eol + 1;
            } else if (c == '/' && block.startsWith("/*", i)) {
                end = closingComment(block, i);
            } else if (c == '$' && (i == 0 || !isIdentifierPart(block.charAt(i - 1)))) {
                String tag = dollarTag(block, i);
                if (tag != null) {
                    int close = block.indexOf(tag, i + tag.length());
                    end = close < 0 ? block.length() : close + tag.length();
                }
            } else if (c == ';') {
                if (code) {
                    statements.add(block.substring(start, i).strip());
                }
                start = i + 1;
                code = false;
                i = end;
                continue;
            }
            if (!Character.isWhitespace(c) && !block.startsWith("--", i) && !block.startsWith("/*", i)) {
                code = true;
            }
            i = end;
        }
        if (code) {
            statements.add(block.substring(start).strip());
        }
        return statements;
    }

    /** The index after the quote that closes the one at {@code open} ('' or "" inside is a quote, not the end). */
    private static int closingQuote(String text, int open, char quote, boolean backslashEscapes) {
        int i = open + 1;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < text.length() && text.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return text.length();
    }

    /** The index after the block comment opened at {@code open}; they nest, as in PostgreSQL. */
    private static int closingComment(String text, int open) {
        int depth = 0;
        int i = open;
        while (i < text.length()) {
            if (text.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (text.startsWith("*/", i)) {
                i += 2;
                if (--depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return text.length();
    }

    /** The dollar quote's opening tag at {@code at} ($$ or $name$), or null: $1 is a parameter, not a quote. */
    private static String dollarTag(String text, int at) {
        int i = at + 1;
        if (i < text.length() && (Character.isLetter(text.charAt(i)) || text.charAt(i) == '_')) {
            while (i < text.length() && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
                i++;
            }
        }
        return i < text.length() && text.charAt(i) == '$' ? text.substring(at, i + 1) : null;
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }
}
