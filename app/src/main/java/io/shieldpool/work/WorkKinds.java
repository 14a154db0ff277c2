package io.shieldpool.work;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.work.demo.DemoWork;

/** Builds the {@link Work} that {@code shieldpool.work.type} names, from a validated config. */
public final class WorkKinds {

    private WorkKinds() {
    }

    public static Work create(ShieldpoolConfig config) {
        return switch (config.work().type()) {
            case "demo" -> new DemoWork(config.work().demo());
            default -> throw new IllegalArgumentException("unknown work type " + config.work().type());
        };
    }
}
