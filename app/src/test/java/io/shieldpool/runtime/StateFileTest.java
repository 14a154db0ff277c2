package io.shieldpool.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StateFileTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsEveryFieldEvenASummaryOnSeveralLines() throws IOException {
        StateFile state = new StateFile(4242, OptionalLong.of(123_456), "running", 3, 5, 4, "rejected",
                "2 problem(s): shieldpool.pool.size: -1 (expected: an integer >= 0)\nand a backslash \\ too");
        Path file = StateFile.path(dir, 4242);
        Files.writeString(file, state.format());
        assertThat(StateFile.read(file)).contains(state);
        assertThat(file.getFileName().toString()).isEqualTo("shieldpool-4242.state");
    }

    @Test
    void aMissingFileIsEmptyAndAForeignOneIsAnError() throws IOException {
        assertThat(StateFile.read(dir.resolve("shieldpool-1.state"))).isEmpty();
        Path foreign = Files.writeString(dir.resolve("shieldpool-2.state"), "hello=world\n");
        assertThatThrownBy(() -> StateFile.read(foreign)).isInstanceOf(IOException.class)
                .hasMessageContaining("not a shieldpool state file");
    }

    @Test
    void liveListsOnlyDaemonsThatRun() throws IOException {
        long me = ProcessHandle.current().pid();
        Files.writeString(StateFile.path(dir, me), new StateFile(me, ProcessStart.of(me), "running", 1, 0, 0, "none", "").format());
        Files.writeString(StateFile.path(dir, 999_999_999L), new StateFile(999_999_999L, OptionalLong.of(1), "running", 1, 0, 0, "none", "").format());
        assertThat(StateFile.live(dir, DaemonCheck.inDaemon(), stale -> { })).extracting(StateFile::pid).containsExactly(me);
    }

    @Test
    void aFileOfAnOlderDaemonWithoutAStartTimeStillReads() throws IOException {
        Path file = Files.writeString(StateFile.path(dir, 4242), """
                pid=4242
                state=running
                config-version=2
                reloads-began=1
                reloads-ended=1
                last-reload=applied
                last-reload-summary=shieldpool.pool.size
                """);
        assertThat(StateFile.read(file)).contains(
                new StateFile(4242, OptionalLong.empty(), "running", 2, 1, 1, "applied", "shieldpool.pool.size"));
        assertThat(new StateFile(4242, OptionalLong.empty(), "running", 2, 1, 1, "applied", "").format())
                .doesNotContain("start-time");
    }

    @Test
    void liveSetsAsideAndRemovesTheFileOfADaemonWhosePidAnotherProcessHasNow() throws IOException {
        long me = ProcessHandle.current().pid();
        long started = ProcessStart.of(me).orElseThrow();
        Path stale = Files.writeString(StateFile.path(dir, me),
                new StateFile(me, OptionalLong.of(started - 1), "running", 1, 0, 0, "none", "").format());
        List<StateFile> setAside = new ArrayList<>();
        assertThat(StateFile.live(dir, DaemonCheck.inDaemon(), setAside::add)).isEmpty();
        assertThat(setAside).extracting(StateFile::pid).containsExactly(me);
        assertThat(stale).doesNotExist();
    }

    @Test
    void aFileANewDaemonWritesWhileAStaleOneIsRemovedStays() throws IOException {
        Path file = StateFile.path(dir, 4242);
        StateFile stale = new StateFile(4242, OptionalLong.of(1), "running", 1, 0, 0, "none", "");
        StateFile fresh = new StateFile(4242, OptionalLong.of(2), "starting", 1, 0, 0, "none", "");
        Files.writeString(file, stale.format());
        // the new daemon (same pid) writes its file as StateFileWriter does, while the stale one is removed
        StateFile.removeIfUnchanged(file, stale, () -> writeAsTheDaemonDoes(file, fresh));
        assertThat(StateFile.read(file)).contains(fresh);
        assertThat(dir.toFile().list()).containsExactly(file.getFileName().toString());

        // written before the removal began (after the judgement): put back, nothing left aside
        StateFile later = new StateFile(4242, OptionalLong.of(2), "running", 1, 0, 0, "none", "");
        writeAsTheDaemonDoes(file, later);
        StateFile.removeIfUnchanged(file, fresh);
        assertThat(StateFile.read(file)).contains(later);
        assertThat(dir.toFile().list()).containsExactly(file.getFileName().toString());

        StateFile.removeIfUnchanged(file, later);
        assertThat(dir.toFile().list()).isEmpty();
    }

    private static void writeAsTheDaemonDoes(Path file, StateFile state) {
        try {
            Path partial = Files.writeString(file.resolveSibling("." + file.getFileName() + ".partial"), state.format());
            Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theDaemonsDirectoryFollowsSystemdThenTheOperatorThenTheSession() {
        assertThat(RuntimeDir.forDaemon(Map.of("RUNTIME_DIRECTORY", "/run/shieldpool:/run/other",
                "SHIELDPOOL_RUNTIME_DIR", "/srv/run"))).isEqualTo(Path.of("/run/shieldpool"));
        assertThat(RuntimeDir.forDaemon(Map.of("SHIELDPOOL_RUNTIME_DIR", "/srv/run", "XDG_RUNTIME_DIR", "/run/user/7")))
                .isEqualTo(Path.of("/srv/run"));
        assertThat(RuntimeDir.forDaemon(Map.of("XDG_RUNTIME_DIR", "/run/user/7"))).isEqualTo(Path.of("/run/user/7/shieldpool"));
        assertThat(RuntimeDir.forDaemon(Map.of())).isEqualTo(
                Path.of(System.getProperty("java.io.tmpdir"), "shieldpool-" + System.getProperty("user.name")));
        assertThat(RuntimeDir.forClient(Map.of())).startsWith(Path.of("/run/shieldpool"));
        // a directory the environment names is the only one looked in: other daemons are not ours
        assertThat(RuntimeDir.forClient(Map.of("SHIELDPOOL_RUNTIME_DIR", "/srv/run", "XDG_RUNTIME_DIR", "/run/user/7")))
                .containsExactly(Path.of("/srv/run"));
        assertThat(RuntimeDir.forClient(Map.of("RUNTIME_DIRECTORY", "/run/shieldpool:/run/other")))
                .containsExactly(Path.of("/run/shieldpool"));
    }

    @Test
    void aPrivateDirectoryIsMadeOwnerOnlyAndASymbolicLinkIsRefused() throws IOException {
        Path made = dir.resolve("made");
        RuntimeDir.ensurePrivate(made);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made))).isEqualTo("rwx------");
        Path link = Files.createSymbolicLink(dir.resolve("link"), made);
        assertThatThrownBy(() -> RuntimeDir.ensurePrivate(link)).isInstanceOf(IOException.class)
                .hasMessageContaining("is not a directory");
    }
}
