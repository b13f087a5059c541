"""An Excel (.xlsx) export read as the same table as a CSV one, through openpyxl in
read-only mode: the first sheet or a named one, the header on row 1, each record's line
its Excel row number. Date cells arrive as dates; numbers that are references as text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from dvds.importer.digests import Cell
from dvds.importer.errors import ExportError
from dvds.importer.rows import RowReject
from dvds.importer.table import Record, Table

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx file is a zip archive
_ZERO_PADDED = re.compile(r"0+")  # a number format like 0000000 shows 1234 as 0001234


def is_xlsx(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC)


def cell_value(value: Any, number_format: str = "General") -> Cell:
    """What a cell holds, as the CSV of the same sheet would: text, or a date for a date cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()  # an Excel date is a day; a time of day on it is not part of it
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        number = str(int(value))  # a reference typed as a number: 1234, never 1234.0
        if _ZERO_PADDED.fullmatch(number_format):
            number = number.zfill(len(number_format))
        return number
    if isinstance(value, time | timedelta):
        return str(value)
    return str(value)


def xlsx_table(data: bytes, sheet: str | None = None) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise ExportError("file: not a readable Excel workbook (.xlsx)") from None
    try:
        if sheet is None:
            if not workbook.worksheets:
                raise ExportError("file: the workbook has no worksheet")
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            names = ", ".join(repr(name) for name in workbook.sheetnames)
            raise ExportError(f"sheet: the workbook has no sheet {sheet!r}; its sheets are {names}")
        # Exporters often write a wrong sheet size; without this, rows past it would be dropped.
        worksheet.reset_dimensions()
        rows = worksheet.iter_rows()
        header_cells = next(rows, ())
    except Exception:
        workbook.close()
        raise
    header = [str(cell_value(c.value)).strip() for c in header_cells]
    while header and not header[-1]:
        header.pop()  # empty cells after the last heading are not columns
    if not header:
        workbook.close()
        raise ExportError("file: empty; row 1 of the sheet must be the header")
    return Table(header, _records(rows, header, workbook.close))


def _records(
    rows: Iterator[tuple[Any, ...]], header: list[str], close: Callable[[], None]
) -> Iterator[Record | RowReject]:
    try:
        for line, cells in enumerate(rows, start=2):
            values = [cell_value(c.value, getattr(c, "number_format", None) or "General") for c in cells]
            if not any(v if isinstance(v, date) else v.strip() for v in values):
                continue  # an empty row is not a record
            extra = values[len(header):]
            if any(v if isinstance(v, date) else v.strip() for v in extra):
                yield RowReject(line, (f"row: has values past column {len(header)}, the last one with a header",))
                continue
            values = values[: len(header)] + [""] * (len(header) - len(values))
            yield Record(line, dict(zip(header, values, strict=True)))
    finally:
        close()
