"""The messages between ArchiveWorkflow and its activity (one model each way)."""

from __future__ import annotations

from pydantic import BaseModel

# The archive's activity runs on a task queue of its own, served by one designated worker
# (DVDS_ARCHIVER): one writer, so the hash chain never forks between hosts.
ARCHIVE_QUEUE_SUFFIX = "-archive"


def archive_task_queue(case_queue: str) -> str:
    """The archive's task queue in the deployment whose cases run on `case_queue`."""
    return case_queue + ARCHIVE_QUEUE_SUFFIX


class ArchiveInput(BaseModel):
    directory: str | None = None  # None: the worker's archive ($DVDS_HOME/archive)


class ArchiveResult(BaseModel):
    archived: int
    records: int
    head: str
