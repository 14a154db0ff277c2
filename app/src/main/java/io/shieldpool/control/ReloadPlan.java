package io.shieldpool.control;

import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.config.ShieldpoolConfig;

import java.util.Set;
import java.util.TreeSet;

/**
 * What a reload changes, decided before anything is touched: the config to swap in, which keys
 * changed, and which of those cannot change on a running pool (they keep their old value and
 * are reported as needing a restart; the rest still applies).
 *
 * @param applied        the config the pool runs on after the reload
 * @param changed        every key whose value differs from the running config
 * @param needRestart    changed keys that were not applied
 * @param workChanged    the work's parameters changed (work.timeout, the running kind's keys):
 *                       sections that start from now use new ones, sections in flight keep theirs
 * @param backoffChanged the backoff changed
 */
record ReloadPlan(ShieldpoolConfig applied, Set<String> changed, Set<String> needRestart,
                  boolean workChanged, boolean backoffChanged) {

    /** Keys that only take effect at start-up. */
    static final Set<String> RESTART_ONLY = Set.of(
            "shieldpool.pool.event-loops", "shieldpool.work.type", "shieldpool.work.plugin-directory",
            "shieldpool.log.format", "shieldpool.jobs.store", "shieldpool.jobs.queue", "shieldpool.jobs.claim-batch");

    /**
     * Subtrees that only take effect at start-up. why: the admin server is bound once; rebinding
     * it under a running drain watcher (or a Kubernetes probe) would open a gap with no health answer.
     */
    static final Set<String> RESTART_ONLY_PREFIXES = Set.of("shieldpool.admin.", "shieldpool.jobs.sqlite.",
            "shieldpool.jobs.postgresql.", "shieldpool.jobs.limits.");

    static boolean restartOnly(String key) {
        return RESTART_ONLY.contains(key) || RESTART_ONLY_PREFIXES.stream().anyMatch(key::startsWith);
    }

    static ReloadPlan of(EffectiveConfig running, EffectiveConfig loaded) {
        Set<String> changed = loaded.changedKeys(running);
        Set<String> needRestart = new TreeSet<>(changed);
        needRestart.removeIf(key -> !restartOnly(key));
        ShieldpoolConfig old = running.config();
        ShieldpoolConfig fresh = loaded.config();
        ShieldpoolConfig applied = new ShieldpoolConfig(fresh.source(),
                new ShieldpoolConfig.Pool(fresh.pool().size(), old.pool().eventLoops()),
                fresh.work().withType(old.work().type(), old.work().pluginDirectory(), old.work().kinds()),
                fresh.backoff(), fresh.shutdown(),
                new ShieldpoolConfig.Log(fresh.log().level(), old.log().format()),
                old.admin(), fresh.systemd(), old.jobs().withLiveKeysOf(fresh.jobs()));
        boolean workChanged = changed.stream().anyMatch(k -> k.startsWith("shieldpool.work.") && !needRestart.contains(k));
        boolean backoffChanged = changed.stream().anyMatch(k -> k.startsWith("shieldpool.worker.backoff."));
        return new ReloadPlan(applied, changed, needRestart, workChanged, backoffChanged);
    }

    /**
     * What runs after this plan: the applied config, with the file's entries except the
     * restart-only keys, which keep the running ones. why: with the file's entries, a restart-only
     * key reverted in the file to the running value (admin.port 18713 back to 18712, never
     * applied) was logged at the next reload as changed, "restart to apply it", with nothing to
     * apply.
     */
    static EffectiveConfig running(ReloadPlan plan, EffectiveConfig running, EffectiveConfig loaded) {
        java.util.Map<String, EffectiveConfig.Entry> entries = new java.util.TreeMap<>(loaded.entries());
        entries.keySet().removeIf(ReloadPlan::restartOnly);
        running.entries().forEach((key, entry) -> {
            if (restartOnly(key)) {
                entries.put(key, entry);
            }
        });
        return new EffectiveConfig(plan.applied(), entries);
    }

    /** Changed keys that were applied. */
    Set<String> appliedKeys() {
        Set<String> keys = new TreeSet<>(changed);
        keys.removeAll(needRestart);
        return keys;
    }
}
