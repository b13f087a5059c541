"""A record of notices already sent, so a retried activity does not send one twice.

An activity is retried when its worker dies or its answer is lost, which can be after
the SMTP server took the message. `OnceNotifier` writes a marker named by a hash of
the notice's idempotency key as soon as the channel accepts it, and skips a notice
whose marker exists. The window left is between the server's acceptance and the
marker's write; the Message-ID (activities/smtp.py) covers it for mail systems that
deduplicate. The log lives under DVDS_HOME: workers on different machines need it on
shared storage to share it.
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
