package io.shieldpool.systemd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The sender against a real unix datagram socket, path and abstract. */
@Timeout(30)
class NotifySocketTest {

    @TempDir
    Path dir;

    @Test
    void sendsToAPathSocket() throws Exception {
        try (NotifyReceiver receiver = NotifyReceiver.atPath(dir.resolve("notify.sock"));
             NotifySocket socket = NotifySocket.open(receiver.address()).orElseThrow()) {
            assertThat(socket.send("READY=1\nSTATUS=4/4 workers")).isTrue();
            int at = receiver.await(0, m -> m.has("READY=1"), Duration.ofSeconds(10), "READY");
            assertThat(receiver.messages().get(at).value("STATUS")).isEqualTo("4/4 workers");
        }
    }

    @Test
    void sendsToAnAbstractSocket() throws Exception {
        String name = "shieldpool-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver receiver = NotifyReceiver.abstractNamed(name);
             NotifySocket socket = NotifySocket.open("@" + name).orElseThrow()) {
            assertThat(socket.send("WATCHDOG=1")).isTrue();
            assertThat(socket.send("STOPPING=1")).isTrue();
            receiver.await(0, m -> m.has("STOPPING=1"), Duration.ofSeconds(10), "STOPPING");
            assertThat(receiver.messages()).extracting(NotifyReceiver.Message::text)
                    .containsExactly("WATCHDOG=1", "STOPPING=1");
        }
    }

    @Test
    void noSocketWithoutNotifySocketOrWithAnAddressWeCannotUse() {
        assertThat(NotifySocket.open(null)).isEmpty();
        assertThat(NotifySocket.open("")).isEmpty();
        assertThat(NotifySocket.open("vsock:2:1234")).isEmpty();
        assertThat(NotifySocket.open("/" + "x".repeat(NotifySocket.SUN_PATH_MAX))).isEmpty();
    }

    @Test
    void aSendNobodyReceivesFailsQuietly() {
        try (NotifySocket socket = NotifySocket.open(dir.resolve("nobody.sock").toString()).orElseThrow()) {
            assertThat(socket.send("READY=1")).isFalse();
        }
    }

    @Test
    void monotonicMicrosIsClockMonotonic() {
        // HotSpot's nanoTime reads CLOCK_MONOTONIC on Linux: the two agree to well within a minute.
        long diff = Math.abs(NotifySocket.monotonicMicros() - System.nanoTime() / 1000);
        assertThat(diff).isLessThan(60_000_000L);
    }
}
