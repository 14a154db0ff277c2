package io.shieldpool.jobs.postgresql;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How schema.sql's blocks are cut into statements, and what schema 6's functions are made of. */
class SchemaTest {

    @Test
    void aDollarQuotedBodyIsOneStatementWhateverSemicolonsItHolds() {
        String block = """
                CREATE TABLE t (a integer);
                CREATE OR REPLACE FUNCTION f(p integer) RETURNS integer LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE t SET a = $1;
                    RETURN (SELECT a FROM t WHERE a = $1 LIMIT 1);
                END
                $$;
                CREATE FUNCTION g() RETURNS text LANGUAGE plpgsql AS $body$
                BEGIN
                    RETURN $$a; b$$ || ';';
                END
                $body$;
                SELECT 'it''s; here', E'an \\' escaped; quote', "odd;name" FROM t -- a comment; with a quote '
                /* a block comment; /* nested; */ still; */ WHERE a = 1;
                SELECT a$1 FROM t WHERE a = $1""";
        List<String> statements = Schema.statements(block);
        assertThat(statements).hasSize(5);
        assertThat(statements.get(0)).isEqualTo("CREATE TABLE t (a integer)");
        assertThat(statements.get(1)).startsWith("CREATE OR REPLACE FUNCTION f").contains("UPDATE t SET a = $1;")
                .endsWith("END\n$$");
        assertThat(statements.get(2)).startsWith("CREATE FUNCTION g").contains("RETURN $$a; b$$ || ';';").endsWith("$body$");
        assertThat(statements.get(3)).startsWith("SELECT 'it''s; here'").endsWith("still; */ WHERE a = 1");
        assertThat(statements.get(4)).isEqualTo("SELECT a$1 FROM t WHERE a = $1");
    }

    @Test
    void piecesWithNothingButBlanksAndCommentsAreNoStatements() {
        assertThat(Schema.statements("SELECT 1;\n  ;\n-- the end; nothing else\n/* nor here; */\n")).containsExactly("SELECT 1");
    }

    @Test
    void schema6IsTwoFunctionsEachLockingTheQueuesRowBeforeItsClaimOrTake() {
        SqlStatements schema = SqlStatements.load("schema.sql");
        List<String> statements = Schema.statements(schema.get("6"));
        assertThat(statements).hasSize(2);
        assertThat(statements.get(0)).startsWith("CREATE OR REPLACE FUNCTION shieldpool_claim_limited(").endsWith("$$");
        assertThat(statements.get(1)).startsWith("CREATE OR REPLACE FUNCTION shieldpool_take_slots(").endsWith("$$");
        for (String function : statements) {
            int lock = function.indexOf("UPDATE shieldpool_queues\n");
            int claimOrTake = function.indexOf("RETURN QUERY");
            assertThat(lock).as("the lock first").isPositive().isLessThan(claimOrTake);
            assertThat(function.substring(lock, claimOrTake)).as("the lock is a statement of its own").contains(";");
            assertThat(function).contains("LANGUAGE plpgsql VOLATILE").doesNotContain("{{");
        }
        for (int version = 1; version <= Schema.VERSION; version++) {
            assertThat(Schema.statements(schema.get(Integer.toString(version)))).as("block " + version)
                    .isNotEmpty().allSatisfy(s -> assertThat(s).doesNotEndWith(";").isNotBlank());
        }
    }

    @Test
    void theFunctionsCopiesOfTheFragmentsAreTheStatementsOwn() {
        // why: a change of statements.sql's fragment that the functions do not follow would make a
        // limited claim see other waits than a give or a rescue; it needs a new schema version.
        SqlStatements schema = SqlStatements.load("schema.sql");
        SqlStatements statements = SqlStatements.load("statements.sql");
        assertThat(schema.get("live-waits-6")).isEqualTo(statements.get("live-waits"));
        assertThat(schema.get("slots-state-6")).isEqualTo(statements.get("slots-state"));
        assertThat(schema.get("6")).contains(statements.get("live-waits")).contains(statements.get("slots-state"));
    }
}
