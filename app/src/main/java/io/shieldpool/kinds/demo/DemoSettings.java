package io.shieldpool.kinds.demo;

import io.shieldpool.config.KindSettings;
import io.shieldpool.config.Rule;

import java.time.Duration;

/**
 * The demo kind's settings ({@code shieldpool.work.demo}).
 *
 * @param steps              steps per section, >= 1
 * @param stepDuration       time one step takes; zero makes a step a bare yield
 * @param failureProbability chance a section fails at its last step, 0..1
 * @param logSteps           log each step's progress at INFO
 * @param stallInSection     testing aid: the section with this id hangs in its first step (0: none)
 */
public record DemoSettings(int steps, Duration stepDuration, double failureProbability, boolean logSteps,
                           long stallInSection) implements KindSettings {

    static final Rule<Integer> STEPS = Rule.intAtLeast("shieldpool.work.demo.steps", 1);
    static final Rule<Duration> STEP_DURATION = Rule.durationAtLeast("shieldpool.work.demo.step-duration",
            Duration.ZERO, Duration.ZERO);
    static final Rule<Double> FAILURE_PROBABILITY = new Rule<>("shieldpool.work.demo.failure-probability",
            "a number from 0.0 to 1.0", p -> p >= 0 && p <= 1, 0.0);
    static final Rule<Integer> STALL_IN_SECTION = Rule.intAtLeast("shieldpool.work.demo.stall-in-section", 0);

    public DemoSettings {
        STEPS.check(steps);
        STEP_DURATION.check(stepDuration);
        FAILURE_PROBABILITY.check(failureProbability);
        Rule.require(stallInSection >= 0, STALL_IN_SECTION.key(), stallInSection, STALL_IN_SECTION.expected());
    }

    /** The longest a section should take when nothing is wrong. */
    public Duration expectedSection() {
        return stepDuration.multipliedBy(steps);
    }
}
