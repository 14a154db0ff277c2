package io.shieldpool.realsystemd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Debian system booted with {@code systemd-nspawn -b}: systemd as PID 1 in its own PID, mount
 * and network namespaces ({@code --private-network}: only a loopback, never the host's), on an
 * overlay of a cached {@link Rootfs} so the cache stays clean. Commands run inside with
 * {@code nsenter -t <its PID 1> -a}.
 *
 * <p>why the cgroups: nspawn is put in a cgroup of its own (in both hierarchies of this machine's
 * hybrid layout) before it starts, else two containers share one and systemd cannot kill what it
 * started. why {@code --register=no --keep-unit}: there is no systemd-machined on the host to
 * register with ("Failed to open system bus" otherwise).
 *
 * <p>Every container is named {@code shieldpool-test-<pid of the test JVM>-<suite>} and recorded in
 * {@link #REGISTRY}; {@link #removeLeftovers} tears down those whose JVM is gone (a crashed or killed
 * earlier run), and {@link #close} (also run by a shutdown hook) tears down this one.
 */
final class SystemdContainer implements AutoCloseable {

    static final Path REGISTRY = Path.of("/run/shieldpool-test");
    private static final List<Path> CGROUP_ROOTS = List.of(Path.of("/sys/fs/cgroup/unified"), Path.of("/sys/fs/cgroup/systemd"));
    private static final String PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final String name;
    private final Path work;
    private final Path merged;
    private final Process nspawn;
    private final long pid1;
    private final Thread hook;
    private boolean closed;

    private SystemdContainer(String name, Path work, Path merged, Process nspawn, long pid1) {
        this.name = name;
        this.work = work;
        this.merged = merged;
        this.nspawn = nspawn;
        this.pid1 = pid1;
        this.hook = new Thread(this::close, "teardown " + name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Why this machine cannot boot containers, or empty when it can. */
    static Optional<String> cannotRun() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("not root (systemd-nspawn and the cgroup set-up need it)");
        }
        for (String tool : List.of("systemd-nspawn", "debootstrap", "nsenter", "mount", "dpkg-deb")) {
            if (Exec.run(List.of("sh", "-c", "command -v " + tool), null, Duration.ofSeconds(10)).exitCode() != 0) {
                return Optional.of(tool + " is not installed (.ci/run installs systemd-container and debootstrap)");
            }
        }
        for (Path root : CGROUP_ROOTS) {
            if (!Files.isWritable(root)) {
                return Optional.of("no writable cgroup hierarchy at " + root);
            }
        }
        return Optional.empty();
    }

    /**
     * Boots {@code rootfs} (read-only: an overlay in {@code workDir} takes the writes), with the
     * host directories {@code bindReadOnly} visible at the same paths, and waits until its systemd
     * reports the boot finished.
     */
    static SystemdContainer boot(String suite, Path rootfs, Path workDir, List<Path> bindReadOnly) throws IOException {
        String name = "shieldpool-test-" + ProcessHandle.current().pid() + "-" + suite;
        Path work = workDir.resolve(name);
        deleteTree(work);
        Path upper = Files.createDirectories(work.resolve("upper"));
        Path overlayWork = Files.createDirectories(work.resolve("work"));
        Path merged = Files.createDirectories(work.resolve("root"));
        Files.createDirectories(REGISTRY);
        Files.writeString(REGISTRY.resolve(name), merged + "\n");
        Exec.run(List.of("mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=" + rootfs + ",upperdir=" + upper + ",workdir=" + overlayWork, merged.toString()), null,
                Duration.ofSeconds(30)).ok();
        List<String> command = new ArrayList<>(List.of("systemd-nspawn", "-D", merged.toString(), "-b", "-M", name,
                "--register=no", "--keep-unit", "--private-network", "--console=read-only"));
        for (Path bind : bindReadOnly) {
            command.add("--bind-ro=" + bind);
        }
        StringBuilder script = new StringBuilder();
        for (Path root : CGROUP_ROOTS) {
            Path group = root.resolve(name);
            script.append("mkdir -p ").append(group).append(" && echo $$ > ").append(group).append("/cgroup.procs && ");
        }
        script.append("exec");
        for (String arg : command) {
            script.append(" '").append(arg).append("'");
        }
        Path console = work.resolve("console.log");
        Process nspawn = new ProcessBuilder("sh", "-c", script.toString()).redirectErrorStream(true)
                .redirectOutput(console.toFile()).start();
        long pid1 = awaitPid1(nspawn, console);
        SystemdContainer container = new SystemdContainer(name, work, merged, nspawn, pid1);
        // why the loop: right after PID 1 appears, its bus socket may not exist yet ("Failed to connect").
        Exec booted = container.sh("for i in $(seq 600); do s=$(systemctl is-system-running --wait 2>/dev/null);"
                + " case $s in running|degraded) break;; esac; sleep 0.1; done; echo $s", Duration.ofSeconds(90));
        if (!booted.out().strip().matches("running|degraded")) {
            String failed = container.sh("systemctl --failed --no-legend", Duration.ofSeconds(10)).out();
            container.close();
            throw new AssertionError(name + " did not boot: " + booted + "\nfailed units: " + failed);
        }
        return container;
    }

    private static long awaitPid1(Process nspawn, Path console) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!nspawn.isAlive()) {
                throw new AssertionError("systemd-nspawn exited " + nspawn.exitValue() + ": " + Files.readString(console));
            }
            Optional<ProcessHandle> init = nspawn.toHandle().children()
                    .filter(p -> p.info().command().map(c -> c.endsWith("/systemd")).orElse(false)).findFirst();
            if (init.isPresent()) {
                return init.get().pid();
            }
            sleep(50);
        }
        nspawn.destroyForcibly();
        throw new AssertionError("no systemd in the container after 30 s: " + Files.readString(console));
    }

    /** The root of the container's file system as the host sees it (writes land in the overlay). */
    Path root() {
        return merged;
    }

    /** Runs a shell command line inside, with a clean environment; at most {@code limit}. */
    Exec sh(String commandLine, Duration limit) {
        return shWithInput(commandLine, null, limit);
    }

    Exec sh(String commandLine) {
        return sh(commandLine, Duration.ofSeconds(60));
    }

    Exec shWithInput(String commandLine, String stdin, Duration limit) {
        return Exec.run(List.of("nsenter", "-t", String.valueOf(pid1), "-a", "--", "env", "-i", PATH, "LANG=C.UTF-8",
                "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "/bin/sh", "-c", commandLine), stdin, limit);
    }

    /** Writes {@code text} to {@code path} inside, keeping the file's owner and mode if it exists. */
    void write(String path, String text) {
        shWithInput("mkdir -p \"$(dirname " + path + ")\" && cat > " + path, text, Duration.ofSeconds(20)).ok();
    }

    /** Powers the container off (systemd stops every unit), kills what is left, unmounts, deletes. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // called by the hook itself
        }
        nspawn.destroy(); // SIGTERM: nspawn asks the container's systemd to power off
        try {
            if (!nspawn.waitFor(20, TimeUnit.SECONDS)) {
                System.err.println("real systemd: " + name + " did not power off within 20 s; killing it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tearDown(name, merged);
        deleteTree(work.resolve("upper"));
        deleteTree(work.resolve("work"));
    }

    /** Tears down the containers of earlier runs whose test JVM no longer exists. */
    static void removeLeftovers() throws IOException {
        if (!Files.isDirectory(REGISTRY)) {
            return;
        }
        try (Stream<Path> entries = Files.list(REGISTRY)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                String[] parts = name.split("-");
                if (parts.length < 4 || !name.startsWith("shieldpool-test-")) {
                    continue;
                }
                long jvm = Long.parseLong(parts[2]);
                if (ProcessHandle.of(jvm).isPresent()) {
                    continue; // a run in progress (another build on this machine)
                }
                System.err.println("real systemd: removing " + name + ", left over by an earlier run");
                tearDown(name, Path.of(Files.readString(entry).strip()));
            }
        }
    }

    private static void tearDown(String name, Path merged) {
        for (int attempt = 0; attempt < 50; attempt++) {
            List<Long> pids = pidsIn(name);
            if (pids.isEmpty()) {
                break;
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            sleep(100);
        }
        for (int attempt = 0; attempt < 20; attempt++) {
            Exec umount = Exec.run(List.of("umount", merged.toString()), null, Duration.ofSeconds(30));
            if (umount.exitCode() == 0 || umount.err().contains("not mounted") || !Files.exists(merged)) {
                break;
            }
            if (attempt == 19) {
                Exec.run(List.of("umount", "-l", merged.toString()), null, Duration.ofSeconds(30));
            }
            sleep(100);
        }
        for (Path root : CGROUP_ROOTS) {
            removeCgroupTree(root.resolve(name));
        }
        try {
            Files.deleteIfExists(REGISTRY.resolve(name));
        } catch (IOException e) {
            // the registry is in /run: gone at the next boot anyway
        }
    }

    private static List<Long> pidsIn(String name) {
        List<Long> pids = new ArrayList<>();
        for (Path root : CGROUP_ROOTS) {
            Path group = root.resolve(name);
            if (!Files.isDirectory(group)) {
                continue;
            }
            try (Stream<Path> tree = Files.walk(group)) {
                for (Path procs : tree.filter(p -> p.getFileName().toString().equals("cgroup.procs")).toList()) {
                    for (String line : Files.readAllLines(procs)) {
                        if (!line.isBlank()) {
                            pids.add(Long.parseLong(line.strip()));
                        }
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // a cgroup vanished while we looked: its processes are gone with it
            }
        }
        return pids;
    }

    private static void removeCgroupTree(Path group) {
        if (!Files.isDirectory(group)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(group)) {
            // cgroup directories are removed with rmdir, deepest first; their files go with them
            for (Path dir : tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                Exec.run(List.of("rmdir", dir.toString()), null, Duration.ofSeconds(10));
            }
        } catch (IOException | UncheckedIOException e) {
            // best effort: an empty cgroup left behind costs nothing
        }
    }

    private static void deleteTree(Path dir) {
        if (Files.exists(dir)) {
            Exec.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, Duration.ofMinutes(2));
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
