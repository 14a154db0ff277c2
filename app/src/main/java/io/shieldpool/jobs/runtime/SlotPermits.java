package io.shieldpool.jobs.runtime;

import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.Slots;
import io.shieldpool.time.Ticker;

import io.vertx.core.AsyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * This daemon's slots of its queue's cluster-wide concurrency limit (a queue with a concurrency
 * and no rate, on a shared store): a worker starts a section of the queue only with a permit, and
 * there are as many permits as slots the store granted this node ({@link JobStore#takeSlots}), so
 * the sections running across the cluster never exceed the limit. A permit passes from a section
 * that ended to the next in memory; the store is asked only when the node's demand changes:
 * <ul>
 * <li>workers that have a job and no permit ({@link #demand}) make it take more slots, one request
 *     at a time; a short take waits in line (renewed while the demand lasts) and is retried at once
 *     when a slot is given back for it;</li>
 * <li>a permit no worker wants is given back: after {@link #IDLE} when nobody else waits, at once
 *     (after {@link #SETTLE}) when someone does, and at once while draining;</li>
 * <li>while other nodes wait, a node keeps at most its {@linkplain Slots#fairShare fair share}:
 *     what it holds beyond that is given back as its sections end.</li>
 * </ul>
 * A node whose heartbeat has not landed for about its ttl ({@link JobStore#claimsSafe}) starts
 * nothing: the others may count it dead and free its slots. Its waiting workers are then not
 * woken (they would find no permit and wait again: a busy loop on the event loops, which delays
 * the heartbeat further); they are woken once it lands ({@link #STALE_RECHECK}). What the node
 * believes it holds is set to what the database says whenever an answer arrives with no other
 * request under way (a take whose answer was lost, a rescue that freed the slots of a node cut
 * off for a while).
 *
 * <p>Thread-safe: called from every shard's event loop and from store answers; the state is
 * guarded by this object's lock, and store requests and feed wake-ups are made outside it.
 */
final class SlotPermits {

    private static final Logger log = LoggerFactory.getLogger(SlotPermits.class);

    /** A permit nobody wants is given back after this, when no other node waits. */
    static final Duration IDLE = Duration.ofSeconds(1);
    /** A permit nobody wants is given back after this when another node waits (its own worker may take it first). */
    static final Duration SETTLE = Duration.ofMillis(5);
    /** A short take is tried again after this while below the fair share... */
    static final Duration RETRY_BELOW_SHARE = Duration.ofMillis(100);
    /** ...and after this at or above it (nobody gives to it but a freed slot; the wait must be renewed within a second). */
    static final Duration RETRY_AT_SHARE = Duration.ofMillis(400);
    /** How often a node that holds or wants slots looks at what the database says it holds. */
    static final Duration LOOK_EVERY = Duration.ofSeconds(2);
    /** While the heartbeat is stale and workers wait with a free slot: how often to look whether it landed. */
    static final Duration STALE_RECHECK = Duration.ofMillis(50);

    private static final Runnable NOTHING = () -> { };

    private final JobStore store;
    private final String queue;
    private final Runnable wakeFeeds;
    private volatile Ticker timers;

    private int held;
    private int inUse;
    private final Map<Object, Integer> demands = new HashMap<>();
    private int wanted;
    /** While other nodes wait: this node's fair share; else no bound. */
    private int keepAtMost = Integer.MAX_VALUE;
    private boolean taking;
    /** Takes and gives under way (their answers may change {@link #held}). */
    private int requests;
    /** Bumped at each take or give sent: a look answers for the database as it was before the latest. */
    private long sent;
    /** What a request sent while another was under way answers for: nothing {@link #learn} trusts. */
    private static final long ALONE_NOT = -1;
    private boolean draining;
    private boolean closed;
    private Runnable cancelRetry;
    private Runnable cancelSettle;
    private Runnable cancelStaleRecheck;
    private long lastLookNanos;
    private boolean lookPending;
    /** The most permits in use at once since the pending settle was set: a permit used meanwhile is not idle. */
    private int peakInUse;

    SlotPermits(JobStore store, String queue, Runnable wakeFeeds) {
        this.store = store;
        this.queue = queue;
        this.wakeFeeds = wakeFeeds;
    }

    /** Starts the periodic look; call once Vert.x is up. */
    void start(Ticker time) {
        this.timers = time;
        scheduleLook();
    }

    /** A worker about to start a section: true (a permit taken) if this node holds a free slot. */
    synchronized boolean tryAcquire() {
        // why held, not the fair share: a slot granted is used; what this node holds beyond its
        // share goes back as its sections end (settle), never by leaving a slot idle meanwhile
        if (closed || draining || !store.claimsSafe() || inUse >= held) {
            return false;
        }
        inUse++;
        peakInUse = Math.max(peakInUse, inUse);
        return true;
    }

    /** A section that held a permit ended (or its job was given back unstarted): the permit is free. */
    void release() {
        Runnable after;
        synchronized (this) {
            inUse = Math.max(0, inUse - 1);
            after = settle(true);
        }
        after.run();
    }

    /**
     * {@code feed}'s workers that have a job and no permit: {@code count} now. The node's demand
     * is the sum over its feeds; a demand above the free permits takes more slots.
     */
    void demand(Object feed, int count) {
        Runnable after;
        synchronized (this) {
            Integer before = count == 0 ? demands.remove(feed) : demands.put(feed, count);
            wanted += count - (before == null ? 0 : before);
            after = wanted > 0 && inUse < held ? wakeWaiting() : takeIfShort();
        }
        after.run();
    }

    /** A slot may have been given back for this node (the store's wake-up): a short take tries again now. */
    void slotMayBeFree() {
        Runnable after;
        synchronized (this) {
            if (cancelRetry != null) {
                cancelRetry.run();
                cancelRetry = null;
            }
            after = takeIfShort();
        }
        after.run();
    }

    /** Another node wants slots (NOTIFY shieldpool_slots_wanted): look at the shares, at most every 100 ms. */
    void othersWant() {
        synchronized (this) {
            if (closed || lookPending || held == 0) {
                return;
            }
            lookPending = true;
        }
        Ticker time = timers;
        long since = time == null ? Long.MAX_VALUE : time.nanoTime() - lastLookNanos;
        if (time == null || since >= Duration.ofMillis(100).toNanos()) {
            look();
        } else {
            time.schedule(Duration.ofNanos(Duration.ofMillis(100).toNanos() - since), this::look);
        }
    }

    /** The drain began: no section will start, so every permit goes back as soon as it is free. */
    void draining() {
        Runnable after;
        synchronized (this) {
            draining = true;
            after = settle(false);
        }
        after.run();
    }

    void close() {
        synchronized (this) {
            closed = true;
            if (cancelRetry != null) {
                cancelRetry.run();
            }
            if (cancelSettle != null) {
                cancelSettle.run();
            }
            if (cancelStaleRecheck != null) {
                cancelStaleRecheck.run();
            }
        }
    }

    /** For tests: [held, in use, wanted]. */
    synchronized int[] snapshot() {
        return new int[] {held, inUse, wanted};
    }

    // ---- under the lock: decide; the returned action sends or wakes outside it ----

    /**
     * Gives back what this node holds beyond what it may keep; or wakes workers waiting for a
     * permit; or waits to see. {@code sectionEnded}: a slot was just freed by a section; what is
     * held beyond the share then goes back even if this node's workers want it (so slots go round
     * the nodes); otherwise a slot its workers wait for is used once first (a slot just granted).
     */
    private Runnable settle(boolean sectionEnded) {
        int keep = draining || closed ? 0 : keepAtMost;
        int excess = Math.min(held - inUse - (sectionEnded || draining ? 0 : wanted), held - keep);
        if (excess > 0) {
            return give(excess);
        }
        int free = Math.min(held, keep) - inUse;
        if (free <= 0) {
            return NOTHING;
        }
        if (wanted > 0) {
            return wakeWaiting();
        }
        scheduleSettle(keepAtMost == Integer.MAX_VALUE ? IDLE : SETTLE);
        return NOTHING;
    }

    /**
     * Workers wait for a permit and this node has a free one: wakes them, unless they would find
     * none ({@link #tryAcquire}). While the heartbeat is stale, they are woken once it has landed;
     * while draining or closed, never (nothing starts).
     */
    private Runnable wakeWaiting() {
        if (closed || draining) {
            return NOTHING;
        }
        if (store.claimsSafe()) {
            return wakeFeeds;
        }
        Ticker time = timers;
        if (cancelStaleRecheck == null && time != null) {
            log.debug("queue {}: heartbeat stale; workers waiting for a slot are woken once it lands", queue);
            cancelStaleRecheck = time.schedule(STALE_RECHECK, () -> {
                Runnable next;
                synchronized (this) {
                    cancelStaleRecheck = null;
                    next = wanted > 0 && inUse < held ? wakeWaiting() : NOTHING;
                }
                next.run();
            });
        }
        return NOTHING;
    }

    private Runnable takeIfShort() {
        int need = wanted - (held - inUse);
        if (closed || draining || taking || need <= 0 || timers == null) {
            return NOTHING;
        }
        taking = true;
        long mine = sending();
        return () -> {
            log.debug("queue {}: taking {} slot(s)", queue, need);
            store.takeSlots(queue, need).onComplete(ar -> taken(ar, need, mine));
        };
    }

    private Runnable give(int count) {
        held -= count;
        long mine = sending();
        return () -> {
            log.debug("queue {}: giving back {} slot(s)", queue, count);
            store.giveSlots(queue, count).onComplete(ar -> given(ar, mine));
        };
    }

    /**
     * Under the lock: a take or give is being sent. Returns what its answer speaks for: the
     * database after it, unless another request was under way when it was sent (its snapshot may
     * then have missed that one's commit, or seen it, whichever way its answer comes back).
     */
    private long sending() {
        boolean alone = requests == 0;
        requests++;
        sent++;
        return alone ? sent : ALONE_NOT;
    }

    private void scheduleSettle(Duration after) {
        Ticker time = timers;
        if (cancelSettle != null || time == null || closed) {
            return;
        }
        peakInUse = inUse;
        cancelSettle = time.schedule(after, () -> {
            Runnable next;
            synchronized (this) {
                cancelSettle = null;
                // why the peak: a permit that was free at the check but used since the settle was
                // set is one this node's workers pass between sections, not an idle one
                int idle = Math.min(Math.min(held, draining ? 0 : keepAtMost) - inUse - wanted, held - peakInUse);
                next = idle > 0 ? give(idle) : settle(false);
            }
            next.run();
        });
    }

    // ---- answers ----

    private void taken(AsyncResult<Slots> ar, int asked, long mine) {
        Runnable after;
        Runnable wake;
        boolean got;
        synchronized (this) {
            taking = false;
            requests--;
            if (ar.failed()) {
                log.debug("taking {} slot(s) of queue {} failed: {}", asked, queue, ar.cause().toString());
                retryIn(RETRY_AT_SHARE);
                return;
            }
            Slots slots = ar.result();
            log.debug("queue {}: took {} of {} slot(s): {}", queue, slots.changed(), asked, slots);
            held += slots.changed();
            learn(slots, mine);
            got = slots.changed() > 0;
            if (slots.changed() < asked && wanted > 0) {
                retryIn(held < slots.fairShare() ? RETRY_BELOW_SHARE : RETRY_AT_SHARE);
            }
            wake = got ? wakeWaiting() : NOTHING;
            after = settle(false);
        }
        wake.run();
        after.run();
    }

    private void given(AsyncResult<Slots> ar, long mine) {
        Runnable after;
        synchronized (this) {
            requests--;
            if (ar.failed()) {
                // why no retry: the give may have landed with its answer lost; the next look tells
                log.debug("giving back slots of queue {} failed: {}", queue, ar.cause().toString());
                return;
            }
            learn(ar.result(), mine);
            after = settle(false);
        }
        after.run();
    }

    private void look() {
        long mine;
        synchronized (this) {
            lookPending = false;
            if (closed) {
                return;
            }
            mine = requests == 0 ? sent : ALONE_NOT;
        }
        Ticker time = timers;
        if (time != null) {
            lastLookNanos = time.nanoTime();
        }
        store.lookAtSlots(queue).onComplete(ar -> {
            if (ar.failed()) {
                return;
            }
            Runnable after;
            synchronized (this) {
                log.debug("queue {}: looked: {}", queue, ar.result());
                learn(ar.result(), mine);
                after = settle(false);
            }
            after.run();
        });
    }

    /**
     * Under the lock: the shares from an answer; what the database holds for us when nothing else
     * was under way from this answer's request to now. why both ends: a look (or take) whose
     * snapshot was taken before a give in flight committed answers with the slots given back
     * still held; believed, they were permits the database no longer counted (SlotPermitsTest).
     */
    private void learn(Slots slots, long answersFor) {
        keepAtMost = slots.othersWant() > 0 ? slots.fairShare() : Integer.MAX_VALUE;
        if (requests == 0 && answersFor == sent && slots.held() != held) {
            log.atDebug().addKeyValue("event", "jobs.slots-resync").addKeyValue("queue", queue)
                    .addKeyValue("believed", held).addKeyValue("database", slots.held())
                    .log("queue {}: this node holds {} slot(s) by the database, not {}", queue, slots.held(), held);
            held = slots.held();
        }
    }

    private void retryIn(Duration delay) {
        Ticker time = timers;
        if (cancelRetry != null || time == null || closed) {
            return;
        }
        cancelRetry = time.schedule(delay, () -> {
            synchronized (this) {
                cancelRetry = null;
            }
            slotMayBeFree();
        });
    }

    private void scheduleLook() {
        Ticker time = timers;
        if (time == null || closed) {
            return;
        }
        time.schedule(LOOK_EVERY, () -> {
            boolean due;
            synchronized (this) {
                due = !closed && (held > 0 || wanted > 0 || inUse > 0);
            }
            if (due) {
                look();
            }
            scheduleLook();
        });
    }

}
