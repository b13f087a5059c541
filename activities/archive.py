"""Archiving closed cases, run daily by the archive schedule (workflows/archive.py).

The activity reads histories through an injected Temporal client (decoded with its data
converter) and appends to the archive directory on the worker's machine.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from dvds.audit.archive import Archive, ArchiveBroken
from dvds.audit.archiving import archive_closed_cases

logger = structlog.get_logger()


class ArchiveInput(BaseModel):
    directory: str | None = None  # None: the worker's $DVDS_HOME/archive


class ArchiveResult(BaseModel):
    archived: int
    records: int
    head: str


class ArchiveActivities:
    def __init__(self, client: Client, default_directory: Path) -> None:
        self.client = client
        self.default_directory = default_directory

    @activity.defn
    async def archive_closed_cases(self, request: ArchiveInput) -> ArchiveResult:
        archive = Archive(Path(request.directory) if request.directory else self.default_directory)
        try:
            # A heartbeat a case: a long first run is not mistaken for a stuck one.
            archived = await archive_closed_cases(self.client, archive, progress=lambda ref: activity.heartbeat(ref))
        except ArchiveBroken as broken:
            raise ApplicationError(f"archive: {broken}", type="ArchiveBroken", non_retryable=True) from None
        seq, head = archive.head()
        logger.info("cases archived", archived=len(archived), records=seq, head=head)
        return ArchiveResult(archived=len(archived), records=seq, head=head)
