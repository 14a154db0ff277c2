package io.shieldpool.kinds.demo;

import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Continuation;
import io.shieldpool.kinds.Work;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The embedded example work: {@code steps} steps of {@code step-duration} each, logging its
 * progress, optionally failing at the last step; with {@code work.timeout} it checks the limit at
 * the end of each step, its only safe points.
 */
public final class DemoWork implements Work, Continuation {

    private static final Logger log = LoggerFactory.getLogger(DemoWork.class);

    private final int steps;
    private final long stepNanos;
    private final double failureProbability;
    private final boolean logSteps;
    /** work.timeout in ns; 0 = none. */
    private final long timeoutNanos;
    private final long stallInSection;

    public DemoWork(DemoSettings settings) {
        this(settings, java.time.Duration.ZERO);
    }

    /** @param timeout work.timeout; checked at each step's end, the demo's only safe points */
    public DemoWork(DemoSettings settings, java.time.Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        this.steps = settings.steps();
        this.stepNanos = settings.stepDuration().toNanos();
        this.failureProbability = settings.failureProbability();
        this.logSteps = settings.logSteps();
        this.stallInSection = settings.stallInSection();
    }

    @Override
    public String type() {
        return "demo";
    }

    @Override
    public int stepsPerSection() {
        return steps;
    }

    @Override
    public void begin(ActiveSection section) {
        if (section.sectionId() == stallInSection) {
            return; // stall-in-section: never resumed, as a section stuck on a dead call would be
        }
        section.resumeAfter(stepNanos, this);
    }

    @Override
    public void resume(ActiveSection section) {
        section.stepDone();
        int done = section.stepsDone();
        // why: with no timeout (the default) this is one predictable branch, no clock read. The last
        // step's end is a safe point too: a section that ran past its limit is timed_out, not completed.
        if (timeoutNanos > 0 && System.nanoTime() - section.sectionStartNanos() >= timeoutNanos) {
            section.timeOut("work.timeout of " + timeoutNanos / 1_000_000 + " ms passed at step " + done + " of " + steps);
            return;
        }
        if (logSteps && log.isInfoEnabled()) {
            logStep(section, done);
        }
        if (done < steps) {
            section.resumeAfter(stepNanos, this);
        } else if (failureProbability > 0 && ThreadLocalRandom.current().nextDouble() < failureProbability) {
            section.fail(new DemoFailure("simulated failure (failure-probability " + failureProbability + ")"));
        } else {
            section.complete();
        }
    }

    private void logStep(ActiveSection section, int done) {
        // why: every line logged inside a section carries worker and section in its MDC;
        // set only when a line is really written, so a quiet pool pays nothing for it.
        MDC.put("worker", Long.toString(section.workerId()));
        MDC.put("section", Long.toString(section.sectionId()));
        try {
            log.info("worker {} section {}: step {} of {} done", section.workerId(), section.sectionId(), done, steps);
        } finally {
            MDC.remove("worker");
            MDC.remove("section");
        }
    }

    /** The simulated failure; carries no stack trace, it is expected. */
    static final class DemoFailure extends RuntimeException {
        DemoFailure(String message) {
            super(message, null, false, false);
        }
    }
}
