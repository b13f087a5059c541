"""structlog, configured once by each entry point. JSON lines by default, console for
people; stdlib records (the SDK's and workflow.logger's) are routed through it."""

from __future__ import annotations

import logging
import queue
import sys
from logging.handlers import QueueHandler, QueueListener

import structlog

# Keys from workflow.logger's `extra` that we let into a log line. Anything else on a
# record is dropped, so no personal data can ride along.
_CASE_KEYS = ("case_ref", "task", "actor", "role", "state", "from_state", "deadline", "notify")


def _case_fields(_: object, __: str, event: dict[str, object]) -> dict[str, object]:
    record = event.get("_record")
    if isinstance(record, logging.LogRecord):
        for key in _CASE_KEYS:
            if hasattr(record, key):
                event[key] = getattr(record, key)
    return event


class _WrittenInBackground(QueueHandler):
    """Hands each record to one thread that formats and writes it. Writing to stderr
    releases the GIL, and in a workflow's activation that let other threads in while
    the case's workflow task waited: in the bench's worker profile, a tenth of each
    review's time. `close` (logging.shutdown, at exit) writes what is still queued."""

    def __init__(self, handler: logging.Handler) -> None:
        super().__init__(queue.SimpleQueue())
        self.listener = QueueListener(self.queue, handler, respect_handler_level=True)
        self.listener.start()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Unchanged: structlog's ProcessorFormatter reads the record's own msg and extras.
        return record

    def close(self) -> None:
        self.listener.stop()
        super().close()


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
        previous.close()
    root.handlers[:] = [_WrittenInBackground(handler)]
    root.setLevel(level)
    # transitions logs four INFO lines for every state change ("Finished processing state
    # ... callbacks"): noise that cost the worker CPU on every task; warnings still show.
    logging.getLogger("transitions").setLevel(max(level, logging.WARNING))
    # The case keys above say which case; the SDK's appended dict would only repeat it.
    from temporalio import activity, workflow

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
