"""Who has claimed which open task: a small SQLite table beside the case data.

A claim is work allocation, not part of the case's record: it lives with the web app
(`$DVDS_HOME/web-claims.sqlite`), is dropped when the task is completed through the web,
and is ignored once the task is no longer open. The engine itself does not enforce it:
the web app refuses a submission on a task someone else has claimed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Claim:
    ref: str
    task: str
    staff_id: str
    claimed_at: datetime


class ClaimTaken(Exception):
    """The task is claimed by someone else. Names the staff id, nothing personal."""


class ClaimStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One process, one event loop thread; sqlite serialises writers across processes.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS claims (ref TEXT NOT NULL, task TEXT NOT NULL, staff_id TEXT NOT NULL,"
            " claimed_at TEXT NOT NULL, PRIMARY KEY (ref, task))"
        )

    def all(self) -> dict[tuple[str, str], Claim]:
        rows = self._db.execute("SELECT ref, task, staff_id, claimed_at FROM claims").fetchall()
        return {(r[0], r[1]): Claim(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in rows}

    def find(self, ref: str, task: str) -> Claim | None:
        return self.all().get((ref, task))

    def claim(self, ref: str, task: str, staff_id: str) -> Claim:
        now = datetime.now(UTC).isoformat()
        self._db.execute("INSERT OR IGNORE INTO claims VALUES (?, ?, ?, ?)", (ref, task, staff_id, now))
        held = self.find(ref, task)
        assert held is not None
        if held.staff_id != staff_id:
            raise ClaimTaken(f"claim: {task} on {ref} is claimed by {held.staff_id}")
        return held

    def release(self, ref: str, task: str, staff_id: str, any_holder: bool = False) -> None:
        """Release your own claim; a supervisor (`any_holder`) may release anyone's."""
        held = self.find(ref, task)
        if held is None:
            return
        if held.staff_id != staff_id and not any_holder:
            raise ClaimTaken(f"claim: {task} on {ref} is claimed by {held.staff_id}; only they or a supervisor "
                             "can release it")
        self._db.execute("DELETE FROM claims WHERE ref = ? AND task = ?", (ref, task))

    def forget(self, ref: str, task: str) -> None:
        self._db.execute("DELETE FROM claims WHERE ref = ? AND task = ?", (ref, task))

    def close(self) -> None:
        self._db.close()
