package io.shieldpool.kinds.demo;

import io.shieldpool.config.ConfigReader;
import io.shieldpool.config.Durations;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.KindSettings;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.PreparedKind;
import io.shieldpool.kinds.WorkKind;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The embedded demo kind: {@code steps} steps of {@code step-duration} per section (see {@link DemoWork}). */
public final class DemoKind implements WorkKind {

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public KindSettings readSettings(ConfigReader reader, String type, boolean running) {
        return new DemoSettings(reader.integer(DemoSettings.STEPS), reader.duration(DemoSettings.STEP_DURATION),
                reader.number(DemoSettings.FAILURE_PROBABILITY), reader.bool("shieldpool.work.demo.log-steps"),
                reader.integer(DemoSettings.STALL_IN_SECTION));
    }

    @Override
    public List<String> advice(ShieldpoolConfig config) {
        DemoSettings demo = (DemoSettings) config.work().settings();
        Duration grace = config.shutdown().grace();
        List<String> warnings = new ArrayList<>();
        Duration section = demo.expectedSection();
        if (section.compareTo(grace) > 0) {
            warnings.add("a demo section takes " + Durations.format(section) + " (work.demo.steps "
                    + demo.steps() + " x work.demo.step-duration " + Durations.format(demo.stepDuration())
                    + ") but shutdown.grace is " + Durations.format(grace) + ": a shutdown would cut sections in flight");
        }
        Duration stallAfter = config.systemd().stallAfter();
        if (demo.stepDuration().compareTo(stallAfter) >= 0) {
            warnings.add("a demo step takes " + Durations.format(demo.stepDuration())
                    + " but systemd.stall-after is " + Durations.format(stallAfter) + ": under systemd's watchdog "
                    + "every step would look stalled and the daemon would be restarted");
        }
        return warnings;
    }

    @Override
    public PreparedKind preflight(EffectiveConfig config, List<String> builtIn) {
        return vertx -> c -> new DemoWork((DemoSettings) c.work().settings(), c.work().timeout());
    }
}
