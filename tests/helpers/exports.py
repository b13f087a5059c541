"""A force's export in its own words: the headers, words and date formats of a made-up
force's records system, as a column profile, a CSV and the rows of today's format."""

from __future__ import annotations

import csv
import io
from datetime import date

from dvds.importer.demo_data import write_demo_export
from dvds.importer.reading import parse_date
from dvds.importer.rows import COLUMNS, RowContext

TODAY = RowContext(today=date(2025, 1, 1))  # demo dates end in late 2024
KEY = b"k" * 32
HEADERS = {
    "case_ref": "Reference", "route": "Route", "received_on": "Date received",
    "applicant_relationship": "Applicant is", "person_at_risk_name": "Person at risk",
    "person_at_risk_dob": "Person at risk DOB", "subject_name": "Subject", "subject_aliases": "Subject AKA",
    "subject_dob": "Subject DOB", "research_completed_on": "Research done", "risk_level": "DASH risk",
    "decision": "Outcome", "decision_on": "Outcome date", "disclosure_delivered_on": "Disclosure date",
    "subject_has_relevant_history": "Relevant history", "notes": "Comments",
}
WORDS = {
    "route": {"right_to_ask": "Right to Ask", "right_to_know": "Right to Know"},
    "applicant_relationship": {"self": "Self", "third_party": "Third Party", "police": "Police"},
    "risk_level": {"standard": "Standard", "medium": "Medium", "high": "High"},
    "decision": {"disclosed": "Disclosure made", "declined": "NFA", "withdrawn": "Withdrawn by applicant",
                 "none": "Not decided"},
    "subject_has_relevant_history": {"yes": "Y", "no": "N", "unknown": "Not known"},
}
FORMATS = ("%d-%b-%Y", "%d.%m.%Y")
DATE_COLUMNS = ("received_on", "person_at_risk_dob", "subject_dob", "research_completed_on", "decision_on",
                "disclosure_delivered_on")
FORCE_PROFILE = "\n".join([
    "[columns]",
    *(f'{field} = "{header}"' for field, header in HEADERS.items()),
    *(f'[values.{field}]\n' + "\n".join(f'{ours} = ["{theirs}"]' for ours, theirs in words.items())
      for field, words in WORDS.items()),
    "[dates]",
    f"formats = {list(FORMATS)!r}".replace("'", '"'),
])


def demo_rows(rows: int, seed: int = 5) -> list[dict[str, str]]:
    out = io.StringIO()
    write_demo_export(out, rows, seed)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def as_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def force_style(row: dict[str, str], number: int) -> dict[str, str]:
    """The same application as the force's system writes it: its headers, words and dates,
    and columns we do not read."""
    written: dict[str, str] = {"Officer": f"PC {number}", "Area": "North"}
    for field, value in row.items():
        if field in WORDS and value:
            value = f"  {WORDS[field][value].upper() if number % 2 else WORDS[field][value]} "
        elif field in DATE_COLUMNS and value:
            day = parse_date(value)
            assert isinstance(day, date)
            value = day.strftime(FORMATS[number % 2])
        written[HEADERS[field]] = value
    return written


def force_file(rows: list[dict[str, str]]) -> bytes:
    header = ["Officer", *reversed(HEADERS.values()), "Area"]
    return as_csv(header, [force_style(row, n) for n, row in enumerate(rows)])


def today_file(rows: list[dict[str, str]]) -> bytes:
    return as_csv(list(COLUMNS), rows)


def force_xlsx(rows: list[dict[str, str]], sheet: str = "Export") -> bytes:
    """The force's export as a workbook: a cover sheet first, then `sheet` with the force's
    headers; dates as Excel date cells, as a records system writes them."""
    import openpyxl

    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Cover"
    cover.append(["Exported by the records system"])
    target = book.create_sheet(sheet)
    header = ["Officer", *reversed(HEADERS.values()), "Area"]
    target.append(header)
    fields = {header: field for field, header in HEADERS.items()}
    for number, row in enumerate(rows):
        written = force_style(row, number)
        cells: list[object] = []
        for name in header:
            value = written.get(name, "")
            if fields.get(name) in DATE_COLUMNS and value:
                day = parse_date(row[fields[name]])
                assert isinstance(day, date)
                cells.append(day)
            else:
                cells.append(value or None)
        target.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
