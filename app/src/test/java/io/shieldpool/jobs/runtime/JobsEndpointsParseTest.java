package io.shieldpool.jobs.runtime;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** POST /jobs bodies that are refused before any job is made (no store needed). */
class JobsEndpointsParseTest {

    private final JobsEndpoints endpoints = new JobsEndpoints(null);

    @Test
    void aBodyNestedTooDeeplyIsSaidSoNotNotJson() {
        int depth = 100_000;
        String body = "{\"payload\": " + "[".repeat(depth) + "]".repeat(depth) + "}";
        assertThatThrownBy(() -> endpoints.parse(Buffer.buffer(body))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("body: nested too deeply (expected: at most 1000 levels of arrays and objects)");
    }

    @Test
    void aBodyThatIsNotJsonIsSaidSo() {
        assertThatThrownBy(() -> endpoints.parse(Buffer.buffer("{\"payload\": ")))
                .hasMessage("body: not JSON (expected: {\"payload\": ...} or {\"jobs\": [...]})");
    }
}
