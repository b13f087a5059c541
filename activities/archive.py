"""Archiving closed cases, run daily by the archive schedule (workflows/archive.py).

What to archive and how a case's record is made (its history read through Temporal, its
timeline built) is the library's auditing, injected as a `ClosedCaseArchiver`; this
activity owns the storage (activities/archive_store.py) and reports the archive's head.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.archive_store import Archive, ArchiveBroken
from states.archiving import ArchiveInput, ArchiveResult

logger = structlog.get_logger()


class ClosedCaseArchiver(Protocol):
    async def __call__(self, archive: Archive, progress: Callable[[str], None] | None = None) -> list[str]:
        """Append every closed case not yet in `archive`; return the refs archived."""
        ...


class ArchiveActivities:
    def __init__(self, archiver: ClosedCaseArchiver, default_directory: Path) -> None:
        self.archiver = archiver
        self.default_directory = default_directory

    @activity.defn
    async def archive_closed_cases(self, request: ArchiveInput) -> ArchiveResult:
        archive = Archive(Path(request.directory) if request.directory else self.default_directory)
        try:
            # A heartbeat a case: a long first run is not mistaken for a stuck one.
            archived = await self.archiver(archive, progress=lambda ref: activity.heartbeat(ref))
        except ArchiveBroken as broken:
            raise ApplicationError(f"archive: {broken}", type="ArchiveBroken", non_retryable=True) from None
        seq, head = archive.head()
        logger.info("cases archived", archived=len(archived), records=seq, head=head)
        return ArchiveResult(archived=len(archived), records=seq, head=head)
