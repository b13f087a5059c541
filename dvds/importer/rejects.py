"""The rejects file an import writes beside the export. It holds no personal data: a
reject names its line, its case reference when well formed, the column and the rule."""

from __future__ import annotations

import csv
from pathlib import Path

from dvds.importer.rows import RowReject


def write_rejects(path: Path, rejects: list[RowReject]) -> None:
    """Every rejected row, by line: written on every run, so it always matches the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "case_ref", "reason"])
        for reject in sorted(rejects, key=lambda r: r.line):
            writer.writerow([reject.line, reject.case_ref or "", reject.reason])
