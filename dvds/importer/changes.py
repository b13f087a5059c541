"""A file that grows: each row against the case already started from it, if any.

A row whose case exists is either the same content (nothing to do), or changed since
import, named by field (never by value), or its reference belongs to a case that was not
imported. Nothing here restarts a case: a person decides what a change means. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dvds.importer.columns import COLUMNS
from dvds.importer.rows import ImportRow, RowReject
from states.record import HistoricalFacts

NOT_IMPORTED = "case_ref: already used on this server by a case not imported from an export"


@dataclass(frozen=True)
class Changed:
    """A row whose case was imported with other content."""

    line: int
    case_ref: str
    fields: tuple[str, ...]  # empty when the case was imported before fields were hashed

    @property
    def reason(self) -> str:
        return "changed since import" + (": " + ", ".join(self.fields) if self.fields else "")


def changed_fields(row: ImportRow, started: HistoricalFacts) -> Changed | None:
    """None when the row holds what the case was started with (the same row, or the same
    values written another way: another date form, the profile's words, Excel); else the
    fields whose values differ, in export order."""
    if started.source_digest == row.digest:
        return None
    ours = row.case.historical.field_digests if row.case.historical else {}
    theirs = started.field_digests
    if not ours or not theirs:
        return Changed(row.line, row.case_ref, ())  # different, but which fields cannot be told
    fields = tuple(name for name in COLUMNS if name in ours and name in theirs and ours[name] != theirs[name])
    return Changed(row.line, row.case_ref, fields) if fields else None


def compare_with_started(row: ImportRow, started: HistoricalFacts | None) -> Changed | RowReject | None:
    """What a row means for the case that holds its reference: None for the same content,
    Changed, or a reject when that case was not imported from an export (`started` None)."""
    if started is None:
        return RowReject(row.line, (NOT_IMPORTED,), row.case_ref)
    return changed_fields(row, started)


@dataclass
class Settled:
    """The rows of a plan against the cases already started: every row in one list."""

    to_start: list[ImportRow] = field(default_factory=list)
    already_imported: list[ImportRow] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)


def settle_against_started(rows: Iterable[ImportRow], started: Mapping[str, HistoricalFacts | None]) -> Settled:
    """`started` holds each existing case by reference: its imported facts, or None for a
    case not imported. Rows whose reference is not there are the new ones, to start."""
    settled = Settled()
    for row in rows:
        if row.case_ref not in started:
            settled.to_start.append(row)
            continue
        verdict = compare_with_started(row, started[row.case_ref])
        if verdict is None:
            settled.already_imported.append(row)
        elif isinstance(verdict, Changed):
            settled.changed.append(verdict)
        else:
            settled.rejects.append(verdict)
    return settled
