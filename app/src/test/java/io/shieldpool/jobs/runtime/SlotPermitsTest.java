package io.shieldpool.jobs.runtime;

import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.Slots;
import io.shieldpool.time.ManualTicker;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decisions of a daemon's slot permits, against a store whose answers the test gives by hand
 * and a clock it moves: when a take is sent and for how many, that a slot granted is used, that
 * what a node holds beyond its fair share goes back as its sections end while others wait, that an
 * idle slot goes back (soon when others wait, after a second when not), that a drain gives all
 * back, that nothing starts while the node's heartbeat is stale, and that the database's count
 * wins when nothing is under way. The statements themselves are tested on a real PostgreSQL
 * (PostgresJobStoreTest); the whole on real daemons (ClusterLimitsIT, PostgresKillIT).
 */
class SlotPermitsTest {

    private final ManualTicker time = new ManualTicker();
    private final ScriptedStore store = new ScriptedStore();
    private final AtomicInteger wakes = new AtomicInteger();
    private SlotPermits permits;
    private final Object feed = new Object();

    @BeforeEach
    void start() {
        permits = new SlotPermits(store.store, "q", wakes::incrementAndGet);
        permits.start(time);
    }

    @Test
    void aDemandAboveTheFreeSlotsTakesTheDifferenceOnceAndTheSlotsGrantedAreUsed() {
        assertThat(permits.tryAcquire()).as("no slot yet").isFalse();
        permits.demand(feed, 3);
        assertThat(store.takes).containsExactly(3);
        permits.demand(feed, 4);
        assertThat(store.takes).as("one take at a time").containsExactly(3);

        store.answerTake(new Slots(3, 3, 0, 1, 10));
        assertThat(wakes.get()).as("the waiting workers are woken").isPositive();
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).as("3 granted, 3 in use").isFalse();
        assertThat(permits.snapshot()).containsExactly(3, 3, 4);
    }

    @Test
    void aShortTakeIsTriedAgainSoonBelowTheFairShareAndWhenASlotIsGivenBackForIt() {
        permits.demand(feed, 2);
        store.answerTake(new Slots(0, 0, 6, 3, 4));
        assertThat(time.pending()).contains(SlotPermits.RETRY_BELOW_SHARE);
        time.advance(SlotPermits.RETRY_BELOW_SHARE);
        assertThat(store.takes).containsExactly(2, 2);
        store.answerTake(new Slots(1, 1, 5, 3, 4));
        assertThat(time.pending()).as("at its share now: a slower renewal of its wait").contains(SlotPermits.RETRY_AT_SHARE);
        permits.slotMayBeFree();
        assertThat(store.takes).as("a slot given back for it: at once").containsExactly(2, 2, 1);
    }

    @Test
    void whileOthersWaitWhatIsHeldBeyondTheFairShareGoesBackAsSectionsEnd() {
        holding(2);
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).isTrue();
        // another node wants slots: 3 nodes for 4 slots, a share of 1
        permits.othersWant();
        store.answerLook(new Slots(0, 2, 2, 3, 4));
        assertThat(store.gives).as("both slots are running sections: nothing is cut").isEmpty();
        permits.release();
        assertThat(store.gives).as("the first section that ends gives its slot back").containsExactly(1);
        assertThat(permits.tryAcquire()).as("this node's next job waits").isFalse();
        store.answerGive(new Slots(1, 1, 1, 3, 4));
        permits.release();
        assertThat(store.gives).as("at its share: the slot is kept a moment for its own next section").containsExactly(1);
        assertThat(permits.tryAcquire()).isTrue();
        time.advance(SlotPermits.SETTLE);
        assertThat(store.gives).as("used again at once: not idle").containsExactly(1);
        permits.release();
        time.advance(SlotPermits.SETTLE);
        assertThat(store.gives).as("left unused while another node waits").containsExactly(1, 1);
    }

    @Test
    void withMoreNodesThanSlotsASlotGrantedRunsOneSectionAndThenGoesRound() {
        permits.demand(feed, 4);
        // 3 nodes want the 2 slots: a share of 0; this node got one anyway (it waited longest)
        store.answerTake(new Slots(1, 1, 4, 3, 2));
        assertThat(store.gives).as("a slot just granted is used, not handed straight back").isEmpty();
        assertThat(permits.tryAcquire()).isTrue();
        permits.release();
        assertThat(store.gives).as("its section ended: the slot goes to the next node in line, though this one wants more")
                .containsExactly(1);
        assertThat(permits.tryAcquire()).isFalse();
    }

    @Test
    void anIdleSlotGoesBackAfterASecondWhenNobodyWaitsUnlessItWasUsedMeanwhile() {
        holding(1);
        assertThat(permits.tryAcquire()).isTrue();
        permits.release();
        assertThat(permits.tryAcquire()).as("its worker's next section").isTrue();
        time.advance(SlotPermits.IDLE);
        assertThat(store.gives).as("used meanwhile").isEmpty();
        permits.release();
        time.advance(SlotPermits.IDLE);
        assertThat(store.gives).as("a second without a section").containsExactly(1);
    }

    @Test
    void aDrainGivesEverySlotBackAsSoonAsItIsFreeAndStartsNothing() {
        holding(3);
        assertThat(permits.tryAcquire()).isTrue();
        permits.draining();
        assertThat(store.gives).as("the two free ones at once").containsExactly(2);
        assertThat(permits.tryAcquire()).isFalse();
        permits.release();
        assertThat(store.gives).containsExactly(2, 1);
    }

    @Test
    void nothingStartsWhileTheNodesHeartbeatIsStale() {
        permits.demand(feed, 1);
        store.answerTake(new Slots(1, 1, 0, 1, 4));
        store.safe = false;
        assertThat(permits.tryAcquire()).isFalse();
        store.safe = true;
        assertThat(permits.tryAcquire()).isTrue();
    }

    @Test
    void whileTheHeartbeatIsStaleWaitingWorkersAreNotWokenToFindNoPermitButOnceItLands() {
        store.safe = false;
        // the feed's workers as they are: woken, a worker takes a permit or waits again (demand)
        AtomicInteger wokenInVain = new AtomicInteger();
        permits = new SlotPermits(store.store, "q", () -> {
            if (wakes.incrementAndGet() > 1_000) {
                return; // the old busy loop: bounded here so the test ends
            }
            if (!permits.tryAcquire()) {
                wokenInVain.incrementAndGet();
                permits.demand(feed, 1);
            }
        });
        permits.start(time);
        permits.demand(feed, 1);
        store.answerTake(new Slots(1, 1, 0, 1, 4));
        assertThat(wokenInVain.get()).as("a slot held, a worker waiting, the heartbeat stale: nobody is woken to find no permit")
                .isZero();
        assertThat(permits.snapshot()).containsExactly(1, 0, 1);

        time.advance(SlotPermits.STALE_RECHECK);
        time.advance(SlotPermits.STALE_RECHECK);
        assertThat(wokenInVain.get()).as("still stale").isZero();
        store.safe = true;
        time.advance(SlotPermits.STALE_RECHECK);
        assertThat(permits.snapshot()).as("the heartbeat landed: the waiting worker took the slot").containsExactly(1, 1, 1);
        assertThat(wakes.get()).isEqualTo(1);
    }

    @Test
    void theDatabasesCountWinsWhenNothingIsUnderWay() {
        holding(2);
        assertThat(permits.tryAcquire()).isTrue();
        // a rescue freed this node's slots while it was cut off: the database says 0
        permits.othersWant();
        store.answerLook(new Slots(0, 0, 0, 1, 4));
        assertThat(permits.snapshot()[0]).isZero();
        assertThat(permits.tryAcquire()).as("no slot: the section in flight runs on, no new one starts").isFalse();

        // a look answered while a take is under way says nothing about the take's result
        permits.demand(feed, 1);
        assertThat(store.takes).hasSize(2);
        time.advance(SlotPermits.LOOK_EVERY);
        store.answerLook(new Slots(0, 0, 0, 1, 4));
        store.answerTake(new Slots(1, 1, 0, 1, 4));
        assertThat(permits.snapshot()[0]).isEqualTo(1);
    }

    @Test
    void aLookSentWhileAGiveWasUnderWayNeverBringsTheSlotsGivenBack() {
        holding(2);
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).isTrue();
        permits.othersWant();
        store.answerLook(new Slots(0, 2, 2, 3, 4));
        permits.release();
        assertThat(store.gives).as("beyond its share of 1").containsExactly(1);
        // told again that others want slots, it looks while its give is under way; the look's
        // snapshot is older than the give's commit, and its answer comes after the give's
        time.advance(Duration.ofMillis(100));
        permits.othersWant();
        store.answerGive(new Slots(1, 1, 2, 3, 4));
        store.answerLook(new Slots(0, 2, 2, 3, 4));
        assertThat(permits.snapshot()[0]).as("held: the give's answer, not the older look's").isEqualTo(1);
        assertThat(store.gives).as("believing the look, it would give that slot back a second time, and the database would"
                + " count none held while its section runs").containsExactly(1);
        assertThat(permits.tryAcquire()).as("1 held, 1 in use").isFalse();
    }

    /** The node takes {@code slots} (nobody else waits; limit 4) and its workers want no more for now. */
    private void holding(int slots) {
        permits.demand(feed, slots);
        store.answerTake(new Slots(slots, slots, 0, 1, 4));
        permits.demand(feed, 0);
    }

    /** A store whose slot answers the test gives; any other call fails the test. */
    private static final class ScriptedStore {
        final List<Integer> takes = new java.util.ArrayList<>();
        final List<Integer> gives = new java.util.ArrayList<>();
        private final Deque<Promise<Slots>> takeAnswers = new ArrayDeque<>();
        private final Deque<Promise<Slots>> giveAnswers = new ArrayDeque<>();
        private final Deque<Promise<Slots>> lookAnswers = new ArrayDeque<>();
        volatile boolean safe = true;
        final JobStore store = (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(),
                new Class<?>[] {JobStore.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "takeSlots" -> answer(takes, (Integer) args[1], takeAnswers);
                    case "giveSlots" -> answer(gives, (Integer) args[1], giveAnswers);
                    case "lookAtSlots" -> answer(null, 0, lookAnswers);
                    case "claimsSafe" -> safe;
                    default -> throw new UnsupportedOperationException(method.getName());
                });

        private static Future<Slots> answer(List<Integer> asked, int count, Deque<Promise<Slots>> answers) {
            if (asked != null) {
                asked.add(count);
            }
            Promise<Slots> answer = Promise.promise();
            answers.add(answer);
            return answer.future();
        }

        void answerTake(Slots slots) {
            takeAnswers.removeFirst().complete(slots);
        }

        void answerGive(Slots slots) {
            giveAnswers.removeFirst().complete(slots);
        }

        void answerLook(Slots slots) {
            lookAnswers.removeFirst().complete(slots);
        }
    }
}
