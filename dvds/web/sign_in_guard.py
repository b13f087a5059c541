"""The sign-in throttle as the web face uses it (dvds/staff/throttle.py holds the logic), and the
security log line for each failure, each lock and each attempt refused while locked.

A line names the staff id only when it is in the directory (a mistyped id may be a name, or a
password typed into the wrong box); any other id, and every address, appear as a keyed tag,
so one source can be followed across lines without the lines holding personal data.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import structlog

from dvds.staff.throttle import SignInThrottle, address_tag
from states.staff import StaffDirectory

logger = structlog.get_logger()


def tag_secret(session_secret: str) -> bytes:
    """The key of the log lines' tags, derived from the session secret (never logged itself)."""
    return hashlib.sha256(b"dvds sign-in log tags\n" + session_secret.encode("utf-8")).digest()


@dataclass
class SignInGuard:
    secret: bytes
    throttle: SignInThrottle = field(default_factory=SignInThrottle)

    def _who(self, staff_id: str, address: str, directory: StaffDirectory) -> dict[str, str]:
        named = {"staff_id": staff_id} if directory.find(staff_id) is not None else {
            "staff_id_tag": address_tag(staff_id, self.secret)}
        return {**named, "address_tag": address_tag(address, self.secret)}

    def wait(self, staff_id: str, address: str, directory: StaffDirectory) -> int:
        """Whole seconds before an attempt for this id from this address is checked; 0: check it now."""
        wait = self.throttle.delay_for(staff_id, address, time.monotonic())
        if wait <= 0:
            return 0
        logger.warning("security: sign-in refused while locked", security="sign_in_locked_out",
                       wait_seconds=round(wait, 1), **self._who(staff_id, address, directory))
        return max(1, round(wait + 0.5))

    def failed(self, staff_id: str, address: str, directory: StaffDirectory) -> int:
        """Record a wrong password; the whole seconds before the next attempt is checked."""
        outcome = self.throttle.record_failure(staff_id, address, time.monotonic())
        who = self._who(staff_id, address, directory)
        logger.warning("security: sign-in failed", security="sign_in_failed", **who)
        if outcome.newly_locked:
            logger.warning("security: sign-in locked", security="sign_in_locked", locked_by=list(outcome.locked_by),
                           wait_seconds=round(outcome.wait, 1), **who)
        return max(1, round(outcome.wait + 0.5)) if outcome.wait > 0 else 0

    def succeeded(self, staff_id: str, address: str) -> None:
        self.throttle.record_success(staff_id, address, time.monotonic())
