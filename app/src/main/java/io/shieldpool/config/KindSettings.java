package io.shieldpool.config;

/**
 * The settings of one work kind ({@code shieldpool.work.<kind>}), validated: a record of the kind's
 * own, read by the kind itself (see {@link WorkTypes}).
 */
public interface KindSettings {
}
