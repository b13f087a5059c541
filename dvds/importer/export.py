"""The export file as a whole: its header, its records with the line each starts on, and
rows that share a case reference. Pure: takes the file's bytes, returns a plan.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from dvds.importer.rows import COLUMNS, ImportRow, RowContext, RowReject, parse_row


class ExportError(Exception):
    """The file cannot be read as an export at all; nothing is started."""


@dataclass(frozen=True)
class Record:
    line: int  # the physical line the record starts on; the header is line 1
    cells: dict[str, str]


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


def decode(data: bytes) -> str:
    """UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ExportError(f"file: not UTF-8 text (first bad byte at offset {err.start})") from None


def records(text: str) -> Iterator[Record | RowReject]:
    """Each record with the line it starts on. Quoted fields may hold commas and newlines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ExportError("file: empty; the first line must be the header") from None
    except csv.Error as err:
        raise ExportError(f"header: not readable as CSV ({err})") from None
    header = [name.strip().lower() for name in header]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(repr(c[:40]) for c in unknown))
        if len(set(header)) != len(header):
            parts.append("a column named twice")
        raise ExportError(f"header: {'; '.join(parts)} (columns: {', '.join(COLUMNS)})")
    end = reader.line_num
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            if "end of data" in str(err):
                # An unclosed quote swallows the rest of the file: one reject, and stop.
                yield RowReject(start, ("row: a quote opened on this line is never closed",))
                return
            # The reader drops the rest of the broken line and carries on with the next.
            end = reader.line_num
            yield RowReject(start, ("row: a quoted field must be followed by a comma or the end of the line",))
            continue
        end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        if len(cells) != len(header):
            yield RowReject(start, (f"row: has {len(cells)} fields; the header has {len(header)}",))
            continue
        yield Record(start, dict(zip(header, cells, strict=True)))


def plan_import(data: bytes, context: RowContext) -> Plan:
    """Every row read lands in exactly one of: to start, repeat, reject."""
    plan = Plan()
    valid: list[ImportRow] = []
    for item in records(decode(data)):
        plan.rows_read += 1
        if isinstance(item, RowReject):
            plan.rejects.append(item)
            continue
        parsed = parse_row(item.line, item.cells, context)
        (plan.rejects if isinstance(parsed, RowReject) else valid).append(parsed)  # type: ignore[arg-type]
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
    plan.rejects.sort(key=lambda r: r.line)
    return plan
