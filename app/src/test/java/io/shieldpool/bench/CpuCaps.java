package io.shieldpool.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A CPU quota of its own for each benchmarked node, so that several nodes on this one machine
 * behave as nodes on small machines of their own: each may use {@code cpus} CPUs' worth of time,
 * whatever the others do. why: the machine has 2 cores shared by the server and every node, so
 * "4 nodes vs 1" uncapped measures 4 JVMs' fixed costs (the JIT of each, their event loops at a
 * quarter of the rate) on the same 2 cores, not whether adding a node adds throughput.
 * <p>
 * A cgroup per node: cgroup v1's cpu controller ({@code cpu.cfs_quota_us}) or cgroup v2's
 * {@code cpu.max}. Needs root and a writable cgroup tree; {@link #create} says why not otherwise.
 */
final class CpuCaps implements AutoCloseable {

    private static final long PERIOD_US = 100_000;

    private final Path root;
    private final boolean v2;
    private final double cpus;
    private final List<Path> groups = new ArrayList<>();

    private CpuCaps(Path root, boolean v2, double cpus) {
        this.root = root;
        this.v2 = v2;
        this.cpus = cpus;
    }

    /** Caps of {@code cpus} CPUs each, or null after one line saying why they cannot be made here. */
    static CpuCaps create(double cpus) {
        Path v1 = Path.of("/sys/fs/cgroup/cpu");
        Path unified = Path.of("/sys/fs/cgroup");
        CpuCaps caps;
        if (Files.isRegularFile(v1.resolve("cpu.cfs_quota_us"))) {
            caps = new CpuCaps(v1, false, cpus);
        } else if (Files.isRegularFile(unified.resolve("cgroup.controllers"))) {
            caps = new CpuCaps(unified, true, cpus);
        } else {
            System.out.println("bench: CPU-capped runs skipped: no cgroup cpu controller under /sys/fs/cgroup");
            return null;
        }
        try {
            caps.group(0);
            caps.close();
            return caps;
        } catch (IOException | RuntimeException e) {
            System.out.println("bench: CPU-capped runs skipped: cannot make a cgroup under " + caps.root + " (" + e.getMessage()
                    + "; needs root and a writable cgroup tree)");
            return null;
        }
    }

    double cpus() {
        return cpus;
    }

    /** {@code command} started inside a fresh group of its own with the quota. */
    List<String> wrap(List<String> command) throws IOException {
        Path group = group(groups.size());
        List<String> wrapped = new ArrayList<>(List.of("sh", "-c", "echo $$ > \"$0\" && exec \"$@\"",
                group.resolve("cgroup.procs").toString()));
        wrapped.addAll(command);
        return wrapped;
    }

    private Path group(int n) throws IOException {
        Path dir = root.resolve("shieldpool-bench-" + ProcessHandle.current().pid() + "-" + n);
        Files.createDirectories(dir);
        groups.add(dir);
        long quota = Math.round(cpus * PERIOD_US);
        if (v2) {
            Files.writeString(dir.resolve("cpu.max"), quota + " " + PERIOD_US);
        } else {
            Files.writeString(dir.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_US));
            Files.writeString(dir.resolve("cpu.cfs_quota_us"), Long.toString(quota));
        }
        return dir;
    }

    /** Removes the groups (their processes have exited by then: a group with one left stays, said once). */
    @Override
    public void close() {
        for (Path dir : groups) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                System.out.println("bench: note: cgroup " + dir + " not removed (" + e.getMessage() + ")");
            }
        }
        groups.clear();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.2f CPU", cpus);
    }
}
