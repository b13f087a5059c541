"""An export as an Excel workbook: the same cases as its CSV, with Excel row numbers."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from dvds.importer.changes import changed_fields
from dvds.importer.errors import ExportError
from dvds.importer.export import plan_import
from dvds.importer.profile import load_profile
from dvds.importer.reading import parse_date
from dvds.importer.rows import COLUMNS
from tests.helpers.exports import FORCE_PROFILE, HEADERS, KEY, TODAY, demo_rows, force_style, today_file

DATE_COLUMNS = {"received_on", "person_at_risk_dob", "subject_dob", "research_completed_on", "decision_on",
                "disclosure_delivered_on"}


def excel_cell(field: str, text: str) -> Any:
    """What a force's spreadsheet holds: real date cells for dates, text for the rest."""
    if field in DATE_COLUMNS and text:
        day = parse_date(text)
        assert isinstance(day, date)
        return day
    return text or None


def workbook(header: list[str], rows: list[list[Any]], sheet: str = "Export", before: str | None = None) -> Workbook:
    book = Workbook()
    first = book.active
    assert first is not None
    if before:
        first.title = before
        first.append(["Exported by the records system"])
        target = book.create_sheet(sheet)
    else:
        first.title = sheet
        target = first
    target.append(header)
    for row in rows:
        target.append(row)
    return book


def as_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def today_xlsx(rows: list[dict[str, str]], **kwargs: Any) -> bytes:
    return as_bytes(workbook(list(COLUMNS), [[excel_cell(c, row[c]) for c in COLUMNS] for row in rows], **kwargs))


class TestSameAsCsv:
    """The workbook of an export gives the cases its CSV gives."""

    def test_identical_cases_and_excel_row_numbers(self) -> None:
        """Date cells read as dates; every case equal to the CSV's, its source line the Excel row;
        and the CSV's cases recognise the workbook's rows as the same content."""
        rows = demo_rows(300)
        csv_plan = plan_import(today_file(rows), TODAY, digest_key=KEY)
        xlsx_plan = plan_import(today_xlsx(rows), TODAY, digest_key=KEY)
        assert xlsx_plan.rejects == [] and len(xlsx_plan.to_start) == 300
        skip: Any = {"historical": {"source_digest", "source_line"}}
        for row, (ours, theirs) in enumerate(zip(csv_plan.to_start, xlsx_plan.to_start, strict=True), start=2):
            assert ours.case.model_dump(exclude=skip) == theirs.case.model_dump(exclude=skip)
            assert theirs.case.historical and theirs.case.historical.source_line == row
            assert ours.case.historical and changed_fields(theirs, ours.case.historical) is None
        assert any(r.line != x.line for r, x in zip(csv_plan.to_start, xlsx_plan.to_start, strict=True)), \
            "some notes span two CSV lines but one Excel row"

    def test_rejects_carry_excel_row_numbers(self) -> None:
        """A bad row is rejected at its Excel row; an empty row is skipped but still counted in the numbering."""
        rows = [[excel_cell(c, row[c]) for c in COLUMNS] for row in demo_rows(4)]
        rows[1][COLUMNS.index("decision")] = "granted"  # row 3
        rows.insert(2, [None] * len(COLUMNS))  # row 4: empty, not a record
        rows[3][COLUMNS.index("received_on")] = "sometime"  # row 5
        rows[4] = [*rows[4], "beyond the header"]  # row 6
        plan = plan_import(as_bytes(workbook(list(COLUMNS), rows)), TODAY)
        assert [r.line for r in plan.to_start] == [2]
        assert [(r.line, r.reasons[0]) for r in plan.rejects] == [
            (3, "decision: must be one of disclosed | declined | withdrawn | none"),
            (5, "received_on: not a date; use YYYY-MM-DD or DD/MM/YYYY"),
            (6, "row: has values past column 16, the last one with a header"),
        ]
        assert plan.rows_read == 4

    def test_numbers_that_are_references_stay_text(self) -> None:
        """A reference typed as a number is read without .0, keeping zeros its number format shows;
        a date-and-time cell is the day."""
        rows = demo_rows(3)
        cells = [[excel_cell(c, row[c]) for c in COLUMNS] for row in rows]
        ref, received = COLUMNS.index("case_ref"), COLUMNS.index("received_on")
        cells[0][ref], cells[1][ref], cells[2][ref] = 1234, 4200.0, 20160001
        cells[2][received] = datetime.combine(cells[2][received], datetime.min.time()).replace(hour=15, minute=30)
        book = workbook(list(COLUMNS), cells)
        sheet = book.active
        assert sheet is not None
        sheet.cell(row=2, column=ref + 1).number_format = "0000000"
        plan = plan_import(as_bytes(book), TODAY)
        assert [r.case.ref for r in plan.to_start] == ["0001234", "4200", "20160001"]
        expected = parse_date(rows[2]["received_on"])
        assert plan.to_start[2].case.historical and plan.to_start[2].case.historical.received_on == expected

    def test_force_workbook_through_a_profile(self) -> None:
        """The force's headers and words in a workbook with date cells, through its profile, give today's cases."""
        rows = demo_rows(60)
        written = []
        for number, row in enumerate(rows):
            cells: dict[str, Any] = force_style(row, number)
            for field in DATE_COLUMNS:
                cells[HEADERS[field]] = excel_cell(field, row[field])
            written.append(cells)
        header = list(written[0])
        data = as_bytes(workbook(header, [[cells[h] or None for h in header] for cells in written]))
        plan = plan_import(data, TODAY, profile=load_profile(FORCE_PROFILE), digest_key=KEY)
        ours = plan_import(today_file(rows), TODAY, digest_key=KEY)
        assert plan.rejects == []
        skip: Any = {"historical": {"source_digest", "source_line"}}
        assert [r.case.model_dump(exclude=skip) for r in plan.to_start] == \
            [r.case.model_dump(exclude=skip) for r in ours.to_start]


class TestSheets:
    """The first sheet, or the one named; a workbook that is not one is refused."""

    def test_named_sheet(self) -> None:
        """With a sheet named, its rows are read and the first sheet's are not."""
        data = today_xlsx(demo_rows(5), sheet="Applications", before="Summary")
        assert len(plan_import(data, TODAY, sheet="Applications").to_start) == 5
        with pytest.raises(ExportError, match="header: missing"):
            plan_import(data, TODAY)

    def test_missing_sheet_refused(self) -> None:
        """A sheet the workbook lacks is refused, naming the sheets it has."""
        data = today_xlsx(demo_rows(2), sheet="Applications", before="Summary")
        with pytest.raises(ExportError) as refused:
            plan_import(data, TODAY, sheet="Apps")
        assert str(refused.value) == "sheet: the workbook has no sheet 'Apps'; its sheets are 'Summary', 'Applications'"

    def test_sheet_for_a_csv_refused(self) -> None:
        """A sheet named for a CSV file is a mistake, said so."""
        with pytest.raises(ExportError, match="only an Excel workbook has sheets"):
            plan_import(today_file(demo_rows(2)), TODAY, sheet="Applications")

    @pytest.mark.parametrize("data", [b"PK\x03\x04not really a zip", b"PK\x03\x04" + b"\0" * 200])
    def test_broken_workbook_refused(self, data: bytes) -> None:
        """A file that looks like a workbook but is not one is refused as a whole."""
        with pytest.raises(ExportError, match="file: not a readable Excel workbook"):
            plan_import(data, TODAY)

    def test_empty_sheet_refused(self) -> None:
        """A sheet with no header row is refused."""
        with pytest.raises(ExportError, match="row 1 of the sheet must be the header"):
            plan_import(as_bytes(Workbook()), TODAY)
