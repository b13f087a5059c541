"""A record of notices already sent on this host, by idempotency key.

A retried attempt of one activity never resends: its heartbeat carries the "sent" mark,
on the server, whichever worker runs it (activities/notifications.py). What this log adds
is narrower: it drops a *second activity* for a notice already sent, which the case still
schedules after some moves it makes itself (the same task announced again with the same
key). It lives under DVDS_HOME, so it drops only the repeats this host sent; the
Message-ID (activities/smtp.py) lets mail systems that deduplicate show the others once.
It can go once every task is announced once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import structlog

from activities.notifications import Notice, Notifier

logger = structlog.get_logger()


class SentLog:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _marker(self, key: str) -> Path:
        return self.folder / hashlib.sha256(key.encode()).hexdigest()

    def sent(self, key: str) -> bool:
        return self._marker(key).exists()

    def record(self, key: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        marker = self._marker(key)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text("sent\n")
        os.replace(tmp, marker)


class OnceNotifier:
    """Sends through `channel` at most once per idempotency key (see the module's note)."""

    def __init__(self, channel: Notifier, log: SentLog) -> None:
        self.channel = channel
        self.log = log

    async def send(self, notice: Notice) -> None:
        if self.log.sent(notice.idempotency_key):
            logger.info("notice already sent", to=notice.to, key=notice.idempotency_key)
            return
        await self.channel.send(notice)
        self.log.record(notice.idempotency_key)
