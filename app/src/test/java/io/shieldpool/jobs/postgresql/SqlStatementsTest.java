package io.shieldpool.jobs.postgresql;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The loader's includes: a fragment written once reaches the server inside every statement that names it. */
class SqlStatementsTest {

    @Test
    void theLiveWaitsTheSlotsStateAndTheWakeOfFreedSlotsAreWrittenOnceAndIncludedInEveryStatementThatNeedsThem() {
        SqlStatements sql = SqlStatements.load("statements.sql");
        String fragment = sql.get("live-waits");
        assertThat(fragment).contains("FROM shieldpool_waits w JOIN shieldpool_nodes nd");
        for (String user : List.of("slots-give", "slots-look", "node-stopped", "rescue")) {
            assertThat(sql.get(user)).as(user).contains(fragment);
        }
        String wake = sql.get("wake-freed");
        assertThat(wake).contains("pg_notify('shieldpool_slots', told.node)");
        for (String user : List.of("node-stopped", "rescue")) {
            assertThat(sql.get(user)).as(user).contains(wake);
        }
        String state = sql.get("slots-state");
        for (String user : List.of("slots-give", "slots-look")) {
            assertThat(sql.get(user)).as(user).contains(state);
        }
        assertThat(sql.all().values()).as("no include is left for the server").noneMatch(s -> s.contains("{{"));
        assertThat(sql.all().values().stream().filter(s -> s.contains("JOIN shieldpool_nodes nd ON nd.id = w.node")).count())
                .as("the fragment and its four users (claim-limited and slots-take call schema 6's functions, SchemaTest):"
                        + " the live waits' shape nowhere else").isEqualTo(5);
        assertThat(sql.all().values().stream().filter(s -> s.contains("pg_notify('shieldpool_slots', told.node)")).count())
                .as("the wake of freed slots and its two users").isEqualTo(3);
    }

    @Test
    void anIncludeOfAMissingOrNestedBlockFailsNamingIt() {
        Map<String, String> missing = new LinkedHashMap<>();
        missing.put("a", "SELECT 1 FROM ({{nope}}) x");
        assertThatThrownBy(() -> SqlStatements.composed("f.sql", missing))
                .hasMessage("f.sql: block a includes {{nope}}, which is not a block of that file");
        Map<String, String> nested = new LinkedHashMap<>();
        nested.put("inner", "SELECT 1");
        nested.put("middle", "SELECT * FROM ({{inner}}) i");
        nested.put("outer", "SELECT * FROM ({{middle}}) m");
        assertThatThrownBy(() -> SqlStatements.composed("f.sql", nested))
                .hasMessage("f.sql: block outer includes {{middle}}, which includes another block");
        assertThat(SqlStatements.composed("f.sql", Map.of("x", "SELECT 2", "y", "SELECT * FROM ({{x}}) t")))
                .containsEntry("y", "SELECT * FROM (SELECT 2) t");
    }
}
