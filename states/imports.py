"""A durable import (workflows/imports.py): an export uploaded through the web inbox, its
rows started a page at a time by an activity, the counts kept by the workflow. What it
carries names rows by line and reference and rules, never a row's values.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

IMPORT_WORKFLOW_PREFIX = "dvds-import-"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImportCounts(_Model):
    started: int = 0
    already_imported: int = 0
    changed: int = 0
    rejected: int = 0

    @property
    def done(self) -> int:
        return self.started + self.already_imported + self.changed + self.rejected

    def plus(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(**{name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields})


class RowProblem(_Model):
    """A row not started: rejected when started (its reference taken by another case), or
    changed since an earlier import (the reason names the fields)."""

    line: int
    case_ref: str | None = None
    reason: str


class ImportInput(_Model):
    """How an import run starts; a run continued as new carries its offset, counts and problems."""

    import_id: str = Field(pattern=r"^[a-f0-9]{16}$")
    to_start: int = Field(ge=0, description="Rows of the plan to start (checked valid at the dry run)")
    today: date = Field(description="The day the rows were checked against, so every page reads the same plan")
    confirmed_by: str = Field(description="Staff id of the operator who confirmed the import")
    page_size: int = Field(default=200, ge=1, le=5000)
    pages_per_run: int = Field(default=50, ge=1, description="Continue as new after this many pages")
    offset: int = 0
    counts: ImportCounts = Field(default_factory=ImportCounts)
    problems: list[RowProblem] = Field(default_factory=list)


class ImportPage(_Model):
    import_id: str
    today: date
    offset: int
    size: int


class PageResult(_Model):
    counts: ImportCounts
    problems: list[RowProblem] = Field(default_factory=list)


class ImportProgress(_Model):
    to_start: int
    counts: ImportCounts
    problems: list[RowProblem] = Field(default_factory=list)
    finished: bool = False
    stopped: str | None = Field(default=None, description="failed or terminated, when it ended unfinished")


def import_workflow_id(import_id: str) -> str:
    return IMPORT_WORKFLOW_PREFIX + import_id
