"""An export read as a table: its header, then each record with the line it starts on.
CSV here, Excel in xlsx.py; both give the same stream, so every rule after this is one.
Pure: takes the file's bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dvds.importer.digests import Cell
from dvds.importer.errors import ExportError
from dvds.importer.rows import RowReject

if TYPE_CHECKING:
    from _csv import Reader  # the type csv.reader returns; it keeps the physical line it is on


@dataclass(frozen=True)
class Record:
    line: int  # where the record starts: the CSV line or the Excel row; the header is 1
    cells: dict[str, Cell]  # by the export's header, as written


@dataclass(frozen=True)
class Table:
    """The header is read when the table is opened, so a file whose header does not fit
    is refused before any row is read; the records are read as they are taken."""

    header: list[str]
    records: Iterator[Record | RowReject]


def decode(data: bytes) -> str:
    """UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ExportError(f"file: not UTF-8 text (first bad byte at offset {err.start})") from None


def csv_table(data: bytes) -> Table:
    """A CSV export. Quoted fields may hold commas and newlines."""
    reader = csv.reader(io.StringIO(decode(data), newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ExportError("file: empty; the first line must be the header") from None
    except csv.Error as err:
        raise ExportError(f"header: not readable as CSV ({err})") from None
    return Table(header, _csv_records(reader, header))


def _csv_records(reader: Reader, header: list[str]) -> Iterator[Record | RowReject]:
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
