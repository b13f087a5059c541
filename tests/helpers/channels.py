"""Real channels on loopback for tests: an HTTP IOPC gateway and an SMTP server.

`IopcGatewayServer` plays the IOPC's side of the contract in activities/iopc_http.py:
it files a referral once per Idempotency-Key and answers a repeated key with the first
reference. It can refuse its first attempts (503), refuse every one with a status of the
test's choosing (`refuse_with`, e.g. 422: a refusal for good), and hold an answer back, so
a test can kill the worker while a referral is in flight. `SmtpServer` can reject
recipients (`reject_recipients`, a 550).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers.ports import free_port


@dataclass
class Received:
    key: str | None
    authorization: str | None
    body: dict[str, Any]


@dataclass
class IopcGatewayServer:
    refuse_first: int = 0
    refuse_with: int | None = None
    accepting: threading.Event = field(default_factory=threading.Event)
    hold_first_answer: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[Received] = field(default_factory=list)
    filings: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.accepting.set()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                received = Received(self.headers.get("Idempotency-Key"), self.headers.get("Authorization"),
                                    json.loads(self.rfile.read(length)))
                status, answer = gateway._answer(received)
                if gateway.hold_first_answer and len(gateway.requests) == 1:
                    gateway.release.wait(120)  # filed, but the answer is not sent until the test says so
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller is gone (a killed worker): the filing stands

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/referrals"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _answer(self, received: Received) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(received)
            if self.refuse_with is not None:
                return self.refuse_with, {"error": "refused"}
            if len(self.requests) <= self.refuse_first or not self.accepting.is_set() or not received.key:
                return 503, {"error": "unavailable"}
            reference = self.filings.setdefault(received.key, f"IOPC/2026/{len(self.filings) + 1:05d}")
            return 201, {"reference": reference}

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rejected: set[str] = set()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's naming
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.rejected:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's naming
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on a loopback port, collecting every message it accepts. `down()` closes it
    (connections refused) and `up()` opens it again on the same port; the messages it
    accepted are kept across both."""

    def __init__(self) -> None:
        self.inbox = _Inbox()
        self.port = free_port()
        self.controller: Controller | None = None
        self.up()

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages

    def reject_recipients(self, *addresses: str) -> None:
        self.inbox.rejected.update(addresses)

    def up(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def close(self) -> None:
        self.down()
