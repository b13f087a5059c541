"""The hashes that recognise a row on a later import: one of the whole row as the export
wrote it, and one per field of the value the case holds, to name what changed.

The per-field hashes are keyed (HMAC-SHA-256): a plain hash of a date of birth is the date
of birth to anyone who tries the 40,000 days of a century, and imported facts are shown to
auditors who do not see the people. Without a key no per-field hashes are made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date

from dvds.importer.columns import COLUMNS

Cell = str | date  # an Excel date cell arrives as a date; everything else as text
_FIELD_DIGEST = b"dvds-import-field-digest\x00"  # keeps these hashes apart from other uses of a key


def cell_text(value: Cell) -> str:
    return value.isoformat() if isinstance(value, date) else value.strip()


def row_digest(cells: Mapping[str, Cell]) -> str:
    """SHA-256 of the row's values, column by column: the same row gives the same digest
    wherever it sits in the file, so a re-import recognises the case it started."""
    canonical = json.dumps({column: cell_text(cells.get(column, "")) for column in COLUMNS}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def field_digests(case_ref: str, values: Mapping[str, str], key: bytes | None) -> dict[str, str]:
    """A keyed hash of each field's value (as the case holds it), by field name. The case
    reference is part of each, so two cases sharing a value do not share its hash."""
    if not key:
        return {}
    secret = hmac.new(key, _FIELD_DIGEST, hashlib.sha256).digest()
    return {
        name: hmac.new(secret, json.dumps([case_ref, name, value]).encode("utf-8"), hashlib.sha256).hexdigest()
        for name, value in values.items()
    }
