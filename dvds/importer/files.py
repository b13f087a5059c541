"""An export file as an import takes it: its bytes and name, an optional column profile
and sheet, judged with the settings' policy time zone and keyed field hashes. One place
for both faces (the command line and the web page), so they read a file the same way.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from zoneinfo import ZoneInfo

from dvds.connection.keys import load_keys
from dvds.importer.errors import ExportError
from dvds.importer.export import Plan, plan_import
from dvds.importer.profile import ColumnProfile
from dvds.importer.rows import RowContext
from dvds.importer.xlsx import is_xlsx
from dvds.settings import Settings
from states.policy import DeadlinePolicy

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def check_kind(name: str, data: bytes, sheet: str | None) -> None:
    """An Excel name must hold a workbook; a sheet is only for a workbook. (A workbook is
    read as one whatever its name.)"""
    suffix = PurePath(name).suffix.lower()
    if suffix in EXCEL_SUFFIXES and not is_xlsx(data):
        raise ExportError(f"file: {PurePath(name).name} is named {suffix} but is not an Excel workbook")
    if sheet is not None and not is_xlsx(data):
        raise ExportError("sheet: only an Excel workbook has sheets; this file is read as CSV")


def digest_key(settings: Settings) -> bytes:
    """The key of the per-field hashes that name what changed since import: the key ring's
    index key (it does not rotate, so a later import compares with an earlier one)."""
    return load_keys(settings).index_secret


def plan_file(
    data: bytes,
    name: str,
    policy: DeadlinePolicy,
    *,
    profile: ColumnProfile | None = None,
    sheet: str | None = None,
    key: bytes | None = None,
) -> Plan:
    """The plan of the file, or ExportError/ProfileError before any row is read."""
    check_kind(name, data, sheet)
    context = RowContext(today=datetime.now(ZoneInfo(policy.timezone)).date(), timezone=policy.timezone)
    return plan_import(data, context, profile=profile, sheet=sheet, digest_key=key)
