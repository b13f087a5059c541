"""The sign-in throttle: after too many failed sign-ins for one staff id, or from one address,
within a window, further attempts wait, longer after each further failure.

Pure logic: the caller passes `now` (seconds on any monotonic clock), so tests drive it with a
fake one. It never looks at the staff directory, so an id that does not exist is throttled
exactly like one that does, and a wait says nothing about which it was.

How the web face uses it: ask `delay_for` before checking a password; while it is above zero,
refuse without checking (so parallel guesses gain nothing), and do not record that attempt
(so a flood of refused attempts cannot lock a person out for longer than the cap). Record each
checked failure and success.

Security log lines (written by the face) carry the staff id and `address_tag(address)`, never
the address: an IP address is personal data about whoever stands behind it, and a plain hash
of an IPv4 address is reversed by trying all 2^32. A keyed hash still lets one source be
followed across lines, and lets someone holding the key confirm a suspected address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    threshold: int = 5  # failures in the window before attempts wait
    window: float = 15 * 60.0  # seconds a failure counts for
    first_delay: float = 1.0  # seconds, doubled with each further failure
    max_delay: float = 60.0  # the longest wait, so a guesser cannot lock a person out for hours
    max_tracked: int = 10_000  # ids and addresses remembered at once; the stalest go first

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.window <= 0 or self.first_delay <= 0 or self.max_delay < self.first_delay:
            raise ValueError("throttle: threshold >= 1, window > 0 and 0 < first_delay <= max_delay")
        if self.max_tracked < 2:
            raise ValueError("throttle: max_tracked must be at least 2")

    @property
    def failures_that_matter(self) -> int:
        """Past this many failures in the window the wait is at its cap, so no more are kept."""
        return self.threshold + math.ceil(math.log2(self.max_delay / self.first_delay)) + 1

    def wait_after(self, failures: int) -> float:
        if failures < self.threshold:
            return 0.0
        return min(self.first_delay * 2.0 ** (failures - self.threshold), self.max_delay)


@dataclass(frozen=True)
class FailureOutcome:
    """What a recorded failure led to, for the face's security log line."""

    wait: float  # seconds until the next attempt is checked
    newly_locked: bool  # this failure is the one that started the waits
    locked_by: tuple[str, ...]  # "staff_id" and/or "address": which count reached the threshold


Key = tuple[str, str]


class SignInThrottle:
    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()
        # Failure times per ("staff_id", id) or ("address", address), least recently failed first,
        # so expired entries are pruned from the front.
        self._failures: OrderedDict[Key, deque[float]] = OrderedDict()

    def delay_for(self, staff_id: str, address: str, now: float) -> float:
        """Seconds to wait before an attempt for this id from this address is checked; 0 if none."""
        self._prune(now)
        return max(self._remaining(key, now) for key in self._keys(staff_id, address))

    def record_failure(self, staff_id: str, address: str, now: float) -> FailureOutcome:
        self._prune(now)
        locked_by: list[str] = []
        newly = False
        for key in self._keys(staff_id, address):
            times = self._failures.pop(key, None) or deque(maxlen=self.policy.failures_that_matter)
            self._forget_expired(times, now)
            times.append(now)
            self._failures[key] = times  # to the back: the most recent failure
            if len(times) >= self.policy.threshold:
                locked_by.append(key[0])
                newly = newly or len(times) == self.policy.threshold
        while len(self._failures) > self.policy.max_tracked:
            self._failures.popitem(last=False)
        wait = max(self._remaining(key, now) for key in self._keys(staff_id, address))
        return FailureOutcome(wait, newly, tuple(locked_by))

    def record_success(self, staff_id: str, address: str, now: float) -> None:
        """A right password clears the id's count. The address's stays: one person signing in
        from an address says nothing about the other guesses made from it."""
        self._prune(now)
        self._failures.pop(("staff_id", staff_id), None)

    @property
    def tracked(self) -> int:
        return len(self._failures)

    def _keys(self, staff_id: str, address: str) -> tuple[Key, Key]:
        return (("staff_id", staff_id), ("address", address))

    def _remaining(self, key: Key, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        self._forget_expired(times, now)
        return max(0.0, times[-1] + self.policy.wait_after(len(times)) - now) if times else 0.0

    def _forget_expired(self, times: deque[float], now: float) -> None:
        while times and now - times[0] >= self.policy.window:
            times.popleft()

    def _prune(self, now: float) -> None:
        # Entries are ordered by their latest failure, so the first one not expired ends the scan.
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if times and now - times[-1] < self.policy.window:
                break
            del self._failures[key]


def address_tag(address: str, secret: bytes) -> str:
    """What a security log line says of an address: a keyed hash, never the address."""
    return hmac.new(secret, address.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
