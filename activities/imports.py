"""Starting one page of an uploaded import's cases (workflows/imports.py).

Reading the stored upload and starting its cases is the library's importer, injected as
an `ImportPageStarter` (as the archive's archiver is); this activity heartbeats as rows
are settled and turns a lost upload into an error that retrying cannot fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from states.imports import ImportPage, PageResult


class UploadGone(Exception):
    """The uploaded file cannot be read back (deleted, or under a key the ring lacks)."""


class ImportPageStarter(Protocol):
    async def __call__(self, page: ImportPage, heartbeat: Callable[[int], None]) -> PageResult:
        """Start the page's rows; call `heartbeat` with the rows settled so far."""
        ...


class ImportActivities:
    def __init__(self, starter: ImportPageStarter) -> None:
        self.starter = starter

    @activity.defn
    async def start_import_page(self, page: ImportPage) -> PageResult:
        try:
            return await self.starter(page, lambda settled: activity.heartbeat(settled))
        except UploadGone as gone:
            raise ApplicationError(f"import: {gone}", type="UploadGone", non_retryable=True) from None
