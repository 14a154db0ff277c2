package io.shieldpool.kinds.exec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every command running now or about to start, across reloads (a reload builds a new exec work;
 * children of the old one still run here). Used once, when the process exits: a clean drain leaves nothing here, but
 * after the grace cap cut sections the children still running get SIGTERM to their group, then
 * SIGKILL after {@code kill-after}, and the exit waits until they are gone, so no child outlives
 * the daemon.
 */
final class Children {

    private static final Logger log = LoggerFactory.getLogger(Children.class);

    /** How long {@link #terminateAll} waits for a run that is inside posix_spawnp to get its pid. */
    private static final Duration SPAWN_SETTLE = Duration.ofSeconds(5);

    private final Set<ExecRun> running = ConcurrentHashMap.newKeySet();
    /** Set by {@link #terminateAll}: from then on no command may start. Guarded by this. */
    private boolean closed;

    /**
     * Registers a run before it spawns its command. why before: a run that joined only once
     * posix_spawnp had returned could start its child just after {@link #terminateAll} had
     * looked, and that child would outlive the daemon.
     *
     * @return false once {@link #terminateAll} has begun: do not spawn
     */
    synchronized boolean register(ExecRun run) {
        if (closed) {
            return false;
        }
        running.add(run);
        return true;
    }

    /** Whether {@link #terminateAll} has begun: a run that spawned after that stops its own group at once. */
    synchronized boolean closed() {
        return closed;
    }

    void remove(ExecRun run) {
        running.remove(run);
    }

    /**
     * Terminates every command still running, and waits for them. Blocking: call off the event
     * loops, after the pool has stopped.
     *
     * @param killAfter pause between SIGTERM and SIGKILL
     */
    void terminateAll(Duration killAfter) {
        List<ExecRun> left;
        synchronized (this) {
            closed = true;
            left = List.copyOf(running);
        }
        if (left.isEmpty()) {
            return;
        }
        // A run registered but still inside posix_spawnp has no pid to signal yet: wait until it has
        // one (or gave up). It also sees the closed flag once spawned and signals its group itself.
        ProcessGroups.awaitUntil(() -> left.stream().allMatch(ExecRun::spawnSettled), SPAWN_SETTLE, 5);
        for (ExecRun run : left) {
            if (run.pid() <= 1) {
                continue; // nothing was started
            }
            if (run.terminating()) {
                continue; // already told to stop (its timeout, or an earlier call): only waited for below
            }
            run.terminateGroup("the drain was cut");
        }
        ProcessGroups.awaitUntil(() -> left.stream().noneMatch(ExecRun::groupAlive), killAfter, 20);
        for (ExecRun run : left) {
            if (run.groupAlive()) {
                log.atWarn().addKeyValue("event", "exec.kill").addKeyValue("worker", run.workerId())
                        .addKeyValue("section", run.sectionId()).addKeyValue("pid", run.pid())
                        .log("worker {} section {}: process group of pid {} still alive after kill-after: SIGKILL",
                                run.workerId(), run.sectionId(), run.pid());
                run.signalGroup(ProcessGroups.SIGKILL);
            }
        }
        // why: SIGKILL cannot be ignored; this wait is only the kernel tearing the processes down
        // and the JDK reaping the leader, so no zombie is left behind either.
        ProcessGroups.awaitUntil(() -> left.stream().noneMatch(r -> r.groupAlive() || r.leaderAlive()),
                Duration.ofSeconds(5), 10);
    }
}
