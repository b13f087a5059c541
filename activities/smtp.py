"""Notices by e-mail: an SMTP server the force configures (DVDS_SMTP_HOST, ...).

Each notice goes to a team's address (`DVDS_SMTP_TO`, e.g. `dvds-{name}@force.example`,
where `{name}` is the role: `supervisor`, `researcher`...). Its Message-ID is made from
the notice's idempotency key, so a copy sent again by a retried activity carries the
same Message-ID and mail systems that deduplicate on it show it once; the "sent" mark in
the activity's heartbeat (activities/notifications.py) stops the resend in the first place.
A recipient the server rejects for good (a 5xx reply) is a non-retryable `NoticeRefused`;
a 4xx (mailbox busy, greylisting) is retried.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

import aiosmtplib
from temporalio.exceptions import ApplicationError

from activities.notifications import Notice

NOTICE_REFUSED = "NoticeRefused"


def message_id(key: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "dvds.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


class SmtpNotifier:
    def __init__(
        self, host: str, port: int, sender: str, to_template: str = "{name}@localhost", timeout: float = 20.0
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.to_template = to_template
        self.timeout = timeout

    def address(self, to: str) -> str:
        """'team:supervisor' or 'accountable:supervisor' -> the configured address for supervisor."""
        return self.to_template.format(name=to.rpartition(":")[2])

    async def send(self, notice: Notice) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.address(notice.to)
        message["Subject"] = notice.subject
        message["Message-ID"] = message_id(notice.idempotency_key, self.sender)
        message.set_content(notice.body)
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as rejected:
            codes = [r.code for r in rejected.recipients]
            if codes and all(500 <= code < 600 for code in codes):
                # The code only: the address is the force's, but a reply text may quote more.
                raise ApplicationError(
                    f"mail server refused the recipient ({codes[0]})", type=NOTICE_REFUSED, non_retryable=True
                ) from None
            raise
