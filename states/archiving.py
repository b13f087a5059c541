"""The messages between ArchiveWorkflow and its activity (one model each way)."""

from __future__ import annotations

from pydantic import BaseModel


class ArchiveInput(BaseModel):
    directory: str | None = None  # None: the worker's archive ($DVDS_HOME/archive)


class ArchiveResult(BaseModel):
    archived: int
    records: int
    head: str
