"""structlog, configured once by each entry point. JSON lines by default, console for
people; stdlib records (the SDK's and workflow.logger's) are routed through it."""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys from workflow.logger's `extra` that we let into a log line. Anything else on a
# record is dropped, so no personal data can ride along.
_CASE_KEYS = ("case_ref", "task", "actor", "role", "state", "from_state", "deadline", "notify",
              "security", "rule", "update", "signal", "workflow_type", "workflow_id")


def _case_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    record = event.get("_record")
    if isinstance(record, logging.LogRecord):
        for key in _CASE_KEYS:
            if hasattr(record, key):
                event[key] = getattr(record, key)
    return event


class _WrittenInBackground(logging.Handler):
    """Records wait in a buffer that one thread writes out every tenth of a second, and
    at close (logging.shutdown, at exit). A log line in a workflow activation used to
    cost the case's workflow task a thread switch: writing to stderr releases the GIL,
    and so does waking a writer thread for each record. In the bench's worker profile
    that was most of the time a review spent in its own code. Lines keep their order."""

    FLUSH_EVERY = 0.1

    def __init__(self, target: logging.Handler) -> None:
        super().__init__()
        self.target = target
        self._pending: deque[logging.LogRecord] = deque()
        self._writing = threading.Lock()
        self._closing = threading.Event()
        self._writer = threading.Thread(target=self._write_periodically, name="log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        self._pending.append(record)  # no lock, no wake-up: a deque append is atomic

    def flush(self) -> None:
        self._write_pending()

    def close(self) -> None:
        self._closing.set()
        self._writer.join(timeout=5)
        self._write_pending()
        self.target.close()
        super().close()

    def _write_periodically(self) -> None:
        while not self._closing.wait(self.FLUSH_EVERY):
            self._write_pending()

    def _write_pending(self) -> None:
        with self._writing:
            while self._pending:
                self.target.handle(self._pending.popleft())
            self.target.flush()


def configure(log_format: str = "json", level: int = logging.INFO) -> None:
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if log_format == "console" else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[_case_fields, structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        keep_exc_info=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for previous in root.handlers:
        if isinstance(previous, _WrittenInBackground):  # configured before: stop its writer thread
            previous.close()
    root.handlers[:] = [_WrittenInBackground(handler)]
    root.setLevel(level)
    # transitions logs four INFO lines for every state change ("Finished processing state
    # ... callbacks"): noise that cost the worker CPU on every task; warnings still show.
    logging.getLogger("transitions").setLevel(max(level, logging.WARNING))
