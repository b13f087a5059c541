"""The export file as a whole: CSV or Excel, its header matched to our fields (today's
names, or a column profile's), its records with the line each starts on, and rows that
share a case reference. Pure: takes the file's bytes, returns a plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dvds.importer.columns import COLUMNS, STAFF_COLUMNS
from dvds.importer.digests import Cell
from dvds.importer.errors import ExportError, ProfileError
from dvds.importer.profile import ColumnProfile
from dvds.importer.reading import Reading
from dvds.importer.rows import TODAY_READING, ImportRow, RowContext, RowReject, parse_row
from dvds.importer.table import Record, Table, csv_table
from dvds.importer.xlsx import is_xlsx, xlsx_table

__all__ = ["ExportError", "Plan", "ProfileError", "Record", "Repeat", "open_export", "plan_import", "plan_records"]


@dataclass(frozen=True)
class Repeat:
    """A row identical to an earlier one: it matches the case that row starts."""

    line: int
    case_ref: str
    first_line: int


@dataclass
class Plan:
    rows_read: int = 0
    to_start: list[ImportRow] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)


def open_export(data: bytes, sheet: str | None = None) -> Table:
    """The file as a table: an Excel workbook (by its content, whatever its name) or CSV."""
    if is_xlsx(data):
        return xlsx_table(data, sheet)
    if sheet is not None:
        raise ExportError("sheet: only an Excel workbook has sheets; this file is read as CSV")
    return csv_table(data)


def our_columns(header: Sequence[str]) -> dict[str, str | None]:
    """Without a profile the header is exactly our field names, in any order and case:
    a column that is missing, unknown or named twice refuses the file."""
    named = [name.strip().lower() for name in header]
    missing = [c for c in COLUMNS if c not in named]
    unknown = [c for c in named if c not in COLUMNS and c not in STAFF_COLUMNS]
    if missing or unknown or len(set(named)) != len(named):
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(repr(c[:40]) for c in unknown))
        if len(set(named)) != len(named):
            parts.append("a column named twice")
        raise ExportError(f"header: {'; '.join(parts)} (columns: {', '.join(COLUMNS)})")
    return {name: written for name, written in zip(named, header, strict=True)}


def plan_import(
    data: bytes,
    context: RowContext,
    *,
    profile: ColumnProfile | None = None,
    sheet: str | None = None,
    digest_key: bytes | None = None,
) -> Plan:
    """Every row read lands in exactly one of: to start, repeat, reject. The header is
    checked (against the profile, if any) before any row is read."""
    table = open_export(data, sheet)
    columns = our_columns(table.header) if profile is None else profile.columns_in(table.header)
    reading = TODAY_READING if profile is None else profile.reading()
    return plan_records(table.records, columns, context, reading, digest_key)


def plan_records(
    records: Iterable[Record | RowReject],
    columns: dict[str, str | None],
    context: RowContext,
    reading: Reading = TODAY_READING,
    digest_key: bytes | None = None,
) -> Plan:
    """A plan from records already read, their cells by the export's header."""
    plan = Plan()
    valid: list[ImportRow] = []
    for item in records:
        plan.rows_read += 1
        if isinstance(item, RowReject):
            plan.rejects.append(item)
            continue
        cells: dict[str, Cell] = {
            name: item.cells.get(header, "") if header else "" for name, header in columns.items()
        }
        parsed = parse_row(item.line, cells, context, reading, digest_key)
        if isinstance(parsed, RowReject):
            plan.rejects.append(parsed)
        else:
            valid.append(parsed)
    _settle_shared_refs(plan, valid)
    plan.rejects.sort(key=lambda r: r.line)
    return plan


def _settle_shared_refs(plan: Plan, valid: list[ImportRow]) -> None:
    by_ref: dict[str, list[ImportRow | RowReject]] = {}
    every: list[ImportRow | RowReject] = [*valid, *plan.rejects]
    for row in every:
        if row.case_ref is not None:
            by_ref.setdefault(row.case_ref, []).append(row)
    for row in valid:
        group = sorted(by_ref[row.case_ref], key=lambda r: r.line)
        digests = {r.digest if isinstance(r, ImportRow) else None for r in group}
        if len(digests) > 1:
            # Two versions of one case: a person must say which is right, so neither starts.
            lines = ", ".join(str(r.line) for r in group)
            reason = f"case_ref: the same case_ref is on lines {lines} with different content"
            plan.rejects.append(RowReject(row.line, (reason,), row.case_ref))
        elif group[0] is not row:
            plan.repeats.append(Repeat(row.line, row.case_ref, group[0].line))
        else:
            plan.to_start.append(row)
