"""The sign-in throttle with a fake clock: when attempts start to wait, how the wait grows,
what clears it, and that an unknown id is treated exactly like a known one. No server."""

from __future__ import annotations

import pytest

from dvds.staff.throttle import SignInThrottle, ThrottlePolicy, address_tag

HERE = "198.51.100.7"
THERE = "203.0.113.9"
MINUTE = 60.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def tick(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def fail_times(throttle: SignInThrottle, clock: Clock, count: int, staff_id: str, address: str) -> None:
    """`count` failed attempts, each made as soon as the throttle allows it."""
    for _ in range(count):
        clock.tick(throttle.delay_for(staff_id, address, clock.now) + 0.5)
        throttle.record_failure(staff_id, address, clock.now)


class TestThreshold:
    """Five failures in fifteen minutes, for one id or from one address, start the waits."""

    def test_four_failures_do_not_wait(self) -> None:
        """Below the threshold the next attempt is checked at once."""
        throttle, clock = SignInThrottle(), Clock()
        fail_times(throttle, clock, 4, "R100", HERE)
        assert throttle.delay_for("R100", HERE, clock.now) == 0.0

    def test_fifth_failure_for_an_id_makes_the_next_attempt_wait(self) -> None:
        """Five failures for R100, each from a different address: R100 waits wherever it comes from."""
        throttle, clock = SignInThrottle(), Clock()
        for n in range(5):
            clock.tick(1)
            throttle.record_failure("R100", f"192.0.2.{n}", clock.now)
        assert throttle.delay_for("R100", THERE, clock.now) == pytest.approx(1.0)
        assert throttle.delay_for("DM300", THERE, clock.now) == 0.0

    def test_fifth_failure_from_an_address_makes_every_id_from_it_wait(self) -> None:
        """Five ids guessed from one address: any id from that address waits; elsewhere, no wait."""
        throttle, clock = SignInThrottle(), Clock()
        for n in range(5):
            clock.tick(1)
            throttle.record_failure(f"GUESS{n}", HERE, clock.now)
        assert throttle.delay_for("R100", HERE, clock.now) == pytest.approx(1.0)
        assert throttle.delay_for("R100", THERE, clock.now) == 0.0

    def test_the_failure_that_locks_is_reported_once(self) -> None:
        """The face logs a lock when it starts: the fifth failure says so, naming which count; later ones do not."""
        throttle, clock = SignInThrottle(), Clock()
        outcomes = []
        for _ in range(6):
            clock.tick(throttle.delay_for("R100", HERE, clock.now) + 0.5)
            outcomes.append(throttle.record_failure("R100", HERE, clock.now))
        assert [o.newly_locked for o in outcomes] == [False, False, False, False, True, False]
        assert outcomes[4].locked_by == ("staff_id", "address")
        assert outcomes[4].wait == pytest.approx(1.0)

    def test_failures_older_than_the_window_stop_counting(self) -> None:
        """Four failures, a quarter of an hour, one more: no wait, and the old ones are forgotten."""
        throttle, clock = SignInThrottle(), Clock()
        fail_times(throttle, clock, 4, "R100", HERE)
        clock.tick(15 * MINUTE)
        throttle.record_failure("R100", HERE, clock.now)
        assert throttle.delay_for("R100", HERE, clock.now) == 0.0
        clock.tick(15 * MINUTE)
        throttle.delay_for("R100", HERE, clock.now)
        assert throttle.tracked == 0


class TestGrowingDelay:
    """Past the threshold each failure doubles the wait, up to a cap."""

    def test_doubles_from_one_second_to_the_cap(self) -> None:
        """Waits after failures 5, 6, 7, ... are 1, 2, 4, 8, 16, 32 s, then 60 s and no more."""
        throttle, clock = SignInThrottle(), Clock()
        fail_times(throttle, clock, 4, "R100", HERE)
        waits = []
        for _ in range(9):
            clock.tick(throttle.delay_for("R100", HERE, clock.now) + 0.001)
            waits.append(throttle.record_failure("R100", HERE, clock.now).wait)
        assert waits == pytest.approx([1, 2, 4, 8, 16, 32, 60, 60, 60])

    def test_the_wait_counts_down(self) -> None:
        """Asked again part-way through, the remaining wait is what is left of it."""
        throttle, clock = SignInThrottle(), Clock()
        fail_times(throttle, clock, 7, "R100", HERE)  # the 7th failure sets a 4 s wait
        clock.tick(1.5)
        assert throttle.delay_for("R100", HERE, clock.now) == pytest.approx(2.5)
        clock.tick(3)
        assert throttle.delay_for("R100", HERE, clock.now) == 0.0

    def test_policy_is_configurable(self) -> None:
        """A force can set its own threshold, first wait and cap."""
        throttle, clock = SignInThrottle(ThrottlePolicy(threshold=2, first_delay=5, max_delay=7)), Clock()
        fail_times(throttle, clock, 2, "R100", HERE)
        assert throttle.delay_for("R100", HERE, clock.now) == pytest.approx(5)
        fail_times(throttle, clock, 1, "R100", HERE)
        assert throttle.delay_for("R100", HERE, clock.now) == pytest.approx(7)

    def test_nonsense_policy_is_refused(self) -> None:
        """A zero threshold or a cap below the first wait is a configuration error, named."""
        with pytest.raises(ValueError, match="threshold"):
            ThrottlePolicy(threshold=0)
        with pytest.raises(ValueError, match="max_delay"):
            ThrottlePolicy(first_delay=10, max_delay=5)


class TestSuccess:
    """A right password clears the id's count, not the address's."""

    def test_success_clears_the_id(self) -> None:
        """After a lock and a successful sign-in, the id's next failures start again from zero."""
        throttle, clock = SignInThrottle(), Clock()
        fail_times(throttle, clock, 5, "R100", HERE)
        clock.tick(throttle.delay_for("R100", HERE, clock.now))
        throttle.record_success("R100", HERE, clock.now)
        throttle.record_failure("R100", THERE, clock.tick(1))
        assert throttle.delay_for("R100", THERE, clock.now) == 0.0

    def test_success_for_one_id_does_not_clear_the_address(self) -> None:
        """A guesser who also holds one real password cannot reset the address's count with it."""
        throttle, clock = SignInThrottle(), Clock()
        for n in range(5):
            throttle.record_failure(f"GUESS{n}", HERE, clock.tick(1))
        throttle.record_success("R100", HERE, clock.tick(1))
        # The address's five failures still count: the next one from it is the sixth.
        assert throttle.record_failure("GUESS9", HERE, clock.tick(1)).wait == pytest.approx(2.0)


class TestSaysNothingAboutWhoExists:
    """The throttle never consults the directory: an unknown id is throttled exactly like a known one."""

    def test_unknown_and_known_ids_wait_the_same(self) -> None:
        """The same failures for a real id and a made-up one give the same waits, attempt by attempt."""
        def waits_for(staff_id: str) -> list[float]:
            throttle, clock = SignInThrottle(), Clock()
            result = []
            for _ in range(10):
                clock.tick(throttle.delay_for(staff_id, HERE, clock.now) + 0.25)
                result.append(throttle.record_failure(staff_id, HERE, clock.now).wait)
            return result

        assert waits_for("R100") == waits_for("NO-SUCH-ID")


class TestSmallState:
    """A flood of made-up ids cannot grow the throttle's memory without bound."""

    def test_tracked_entries_are_capped(self) -> None:
        """Twenty thousand ids from twenty thousand addresses: at most max_tracked kept."""
        throttle, clock = SignInThrottle(ThrottlePolicy(max_tracked=1000)), Clock()
        for n in range(20_000):
            throttle.record_failure(f"ID{n}", f"10.0.{n // 256}.{n % 256}", clock.tick(0.001))
        assert throttle.tracked <= 1000

    def test_each_entry_keeps_only_the_failures_that_matter(self) -> None:
        """Hundreds of failures for one id keep the wait at its cap, from a short list."""
        throttle, clock = SignInThrottle(), Clock()
        for _ in range(500):
            throttle.record_failure("R100", HERE, clock.tick(0.01))
        assert throttle.delay_for("R100", HERE, clock.now) == pytest.approx(60, abs=0.02)
        assert max(len(t) for t in throttle._failures.values()) <= throttle.policy.failures_that_matter


def test_address_tag_hides_the_address_but_follows_it() -> None:
    """Log lines carry a keyed hash: the same address, the same tag; never the address itself."""
    tag = address_tag(HERE, b"deployment secret")
    assert tag == address_tag(HERE, b"deployment secret")
    assert HERE not in tag
    assert tag != address_tag(THERE, b"deployment secret")
    assert tag != address_tag(HERE, b"another deployment")
