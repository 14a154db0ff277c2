package io.shieldpool.kinds.exec;

import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.SectionRun;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One section of the exec kind: one child process, in a session and process group of its own
 * (see {@link SessionSpawn}), so a Ctrl+C that a terminal sends to the daemon's foreground group
 * never reaches it: the shield holds at the OS level too. One platform thread of
 * {@link CommandThreads} starts it, logs its output and waits for it (see {@link ChildWatch}); the
 * section ends on the worker's thread once the child and anything it left in its group are gone.
 */
final class ExecRun extends SectionRun {

    private static final Logger output = LoggerFactory.getLogger("io.shieldpool.kinds.exec.output");
    /** After the command and its group are gone, how long its pipes may stay open before they are read in the background. */
    private static final Duration OUTPUT_END_WAIT = Duration.ofSeconds(2);

    /** How a command is started: {@link SessionSpawn#spawn} (a test may wrap it). */
    interface Spawner {
        SessionSpawn.Child spawn(List<String> argv, Map<String, String> environment, Optional<Path> directory)
                throws IOException;

        /** With these bytes (the job's payload) as stdin; by default stdin is ignored. */
        default SessionSpawn.Child spawn(List<String> argv, Map<String, String> environment, Optional<Path> directory,
                                         Optional<byte[]> stdin) throws IOException {
            return spawn(argv, environment, directory);
        }
    }

    private final ExecSettings settings;
    private final Children children;
    private final Spawner spawner;
    private final java.util.concurrent.Executor threads;
    private final long workerId;
    private final long sectionId;
    /** The section's job, with a job store; null without one. */
    private final io.shieldpool.jobs.Job job;
    private volatile boolean exited;
    private volatile long pid;
    private volatile String timeoutReason;
    /** Set once something decided to stop this command: its group's leftovers are expected then. */
    private volatile boolean terminating;
    /** Set once the spawn thread got past posix_spawnp (a pid, or nothing started). */
    private volatile boolean spawnSettled;
    /** Set when the spawn thread is about to start the command; guarded by this, with timeoutReason. */
    private boolean spawning;

    ExecRun(ActiveSection section, Context home, Vertx vertx, Duration timeout, ExecSettings settings,
            Children children, Spawner spawner, java.util.concurrent.Executor threads) {
        super(section, home, vertx, timeout);
        this.settings = settings;
        this.children = children;
        this.spawner = spawner;
        this.threads = threads;
        this.workerId = section.workerId();
        this.sectionId = section.sectionId();
        this.job = section.job();
    }

    void start() {
        armTimeout();
        try {
            threads.execute(this::runChild);
        } catch (Throwable e) { // no thread to be had (OutOfMemoryError: unable to create native thread)
            spawnSettled = true;
            failed(new ExecFailure("cannot start " + settings.command().getFirst() + ": " + describe(e)));
        }
    }

    long workerId() {
        return workerId;
    }

    long sectionId() {
        return sectionId;
    }

    long pid() {
        return pid;
    }

    boolean leaderAlive() {
        return pid > 1 && !exited;
    }

    boolean groupAlive() {
        long group = pid;
        return group > 1 && ProcessGroups.alive(group);
    }

    boolean spawnSettled() {
        return spawnSettled;
    }

    boolean terminating() {
        return terminating;
    }

    void signalGroup(int signal) {
        terminating = true;
        long group = pid;
        if (group > 1) {
            ProcessGroups.signal(group, signal);
        }
    }

    @Override
    protected void onTimeout(String reason) {
        // why: the section ends only once the child's group is gone, so a timed-out command
        // never runs on beside the worker's next one.
        boolean nothingSpawned;
        synchronized (this) {
            timeoutReason = reason;
            nothingSpawned = !spawning;
        }
        if (nothingSpawned) {
            // why: the spawn thread has not begun (and now will not): there is nothing to wait for.
            timedOut(reason + "; the command was not started");
            return;
        }
        terminate("work.timeout");
    }

    /** The one exec.terminate line, then SIGTERM to the command's process group. Any thread. */
    void terminateGroup(String why) {
        signalGroup(ProcessGroups.SIGTERM);
        output.atWarn().addKeyValue("event", "exec.terminate").addKeyValue("worker", workerId)
                .addKeyValue("section", sectionId).addKeyValue("pid", pid)
                .log("worker {} section {}: {}: SIGTERM to the process group of pid {}", workerId, sectionId, why, pid);
    }

    /** SIGTERM to the group now, SIGKILL after kill-after if anything is left. Worker's thread. */
    private void terminate(String why) {
        if (pid <= 1) {
            return; // not started yet: runChild sees timeoutReason and terminates right after starting
        }
        terminateGroup(why);
        long killAfterMs = Math.max(1, settings.killAfter().toMillis());
        vertx.setTimer(killAfterMs, id -> {
            if (groupAlive()) {
                output.atWarn().addKeyValue("event", "exec.kill").addKeyValue("worker", workerId)
                        .addKeyValue("section", sectionId).addKeyValue("pid", pid)
                        .log("worker {} section {}: process group of pid {} still alive {} ms after SIGTERM: SIGKILL",
                                workerId, sectionId, pid, killAfterMs);
                signalGroup(ProcessGroups.SIGKILL);
            }
        });
    }

    private void runChild() {
        Thread.currentThread().setName("exec-" + workerId + "-" + sectionId); // which section, in a thread dump
        synchronized (this) {
            if (timeoutReason != null) {
                spawnSettled = true;
                return; // the timeout came first and has ended the section
            }
            spawning = true;
        }
        if (!children.register(this)) {
            spawnSettled = true;
            onHome(() -> failed(new ExecFailure("not started: the daemon is exiting")));
            return;
        }
        SessionSpawn.Child started;
        try {
            started = spawnWithPayload();
        } catch (Throwable e) {
            // why Throwable: an Error here (SessionSpawn's class initialization failing on an older
            // glibc) would otherwise end this thread and leave the section running forever.
            spawnSettled = true;
            children.remove(this);
            String why = "cannot start " + settings.command().getFirst() + ": " + describe(e);
            onHome(() -> {
                if (timeoutReason != null) {
                    timedOut(timeoutReason + "; " + why);
                } else {
                    failed(new ExecFailure(why));
                }
            });
            return;
        }
        pid = started.pid();
        spawnSettled = true;
        if (children.closed()) {
            // terminateAll began while posix_spawnp ran: this child must not outlive the daemon.
            terminateGroup("started as the daemon exits"); // first: terminateAll then sees it terminating
        }
        if (timeoutReason != null) {
            onHome(() -> terminate("work.timeout"));
        }
        int exit;
        OutputBudget budget = new OutputBudget(settings.maxLineLength(), settings.maxLinesPerSecond(), System.nanoTime());
        OutputPump stdoutPump = new OutputPump("stdout", budget, output, workerId, sectionId);
        try (ChildWatch watch = new ChildWatch(started, stdoutPump,
                new OutputPump("stderr", budget, output, workerId, sectionId))) {
            exit = watch.awaitExit();
            exited = true;
            reapGroup(watch);
            watch.readUntil(watch::outputEnded, OUTPUT_END_WAIT, Integer.MAX_VALUE);
            watch.readRestInBackground();
            stdoutPump.reportDropped(System.nanoTime(), true);
        } catch (Throwable e) {
            // Cannot wait for the command any more: kill its group rather than leave it unwatched.
            signalGroup(ProcessGroups.SIGKILL);
            exited = true;
            children.remove(this);
            String why = "lost track of " + settings.command().getFirst() + " (pid " + pid + "): " + describe(e);
            onHome(() -> failed(new ExecFailure(why)));
            return;
        }
        children.remove(this);
        onHome(() -> {
            if (timeoutReason != null) {
                timedOut(timeoutReason + "; command terminated (exit status " + exit + ")");
            } else if (exit == 0) {
                completed();
            } else {
                failed(new ExecFailure(settings.command().getFirst() + " exited with status " + exit
                        + (exit > 128 ? " (signal " + (exit - 128) + ")" : "")));
            }
        });
    }

    /** A cause in one line: its message, or its class name when it has none. */
    private static String describe(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause && cause.getMessage() == null) {
            cause = cause.getCause();
        }
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName()
                : (cause instanceof IOException ? message : cause.getClass().getSimpleName() + ": " + message);
    }

    /** Spawns the command; with a job, its payload is the command's stdin. Spawn thread. */
    private SessionSpawn.Child spawnWithPayload() throws IOException {
        Optional<byte[]> stdin = job == null ? Optional.empty()
                : Optional.of(job.payload().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return spawner.spawn(settings.command(), environment(), settings.directory(), stdin);
    }

    private Map<String, String> environment() {
        Map<String, String> environment = new HashMap<>(settings.environment());
        environment.put("SHIELDPOOL_WORKER", Long.toString(workerId));
        environment.put("SHIELDPOOL_SECTION", Long.toString(sectionId));
        if (job != null) {
            environment.put("SHIELDPOOL_JOB_ID", Long.toString(job.id()));
            environment.put("SHIELDPOOL_JOB_ATTEMPT", Integer.toString(job.attempt()));
            environment.put("SHIELDPOOL_JOB_QUEUE", job.queue());
        }
        return environment;
    }

    /**
     * The command has exited; processes it left in its group (a background job) would be orphans:
     * they get SIGTERM, then SIGKILL after kill-after. Their output is read meanwhile.
     */
    private void reapGroup(ChildWatch watch) throws Throwable {
        if (!groupAlive()) {
            return;
        }
        if (!terminating) {
            output.atWarn().addKeyValue("event", "exec.leftovers").addKeyValue("worker", workerId)
                    .addKeyValue("section", sectionId).addKeyValue("pid", pid)
                    .log("the command (pid {}) exited but left processes in its group: SIGTERM to them", pid);
        }
        signalGroup(ProcessGroups.SIGTERM);
        watch.readUntil(() -> !groupAlive(), settings.killAfter(), 20);
        if (groupAlive()) {
            signalGroup(ProcessGroups.SIGKILL);
            watch.readUntil(() -> !groupAlive(), Duration.ofSeconds(5), 10);
        }
    }

    /** A command that could not start or exited non-zero; no stack trace, the message says it. */
    static final class ExecFailure extends RuntimeException {
        ExecFailure(String message) {
            super(message, null, false, false);
        }
    }
}
