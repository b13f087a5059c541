"""A file that grows (Wiltshire's 3,582 applications became 3,778): only the new rows start,
and a row imported before with other content is named by the fields that changed."""

from __future__ import annotations

from datetime import date

from dvds.importer.changes import NOT_IMPORTED, Changed, changed_fields, settle_against_started
from dvds.importer.export import Plan, plan_import
from dvds.importer.reading import parse_date
from dvds.importer.rows import ImportRow
from states.record import HistoricalFacts
from tests.helpers.exports import TODAY, demo_rows, today_file

KEY = b"k" * 32


def plan(rows: list[dict[str, str]], key: bytes | None = KEY) -> Plan:
    return plan_import(today_file(rows), TODAY, digest_key=key)


def started_from(first: Plan) -> dict[str, HistoricalFacts | None]:
    """What the server holds after the first import: each case's imported facts."""
    return {row.case_ref: row.case.historical for row in first.to_start}


def facts(row: ImportRow) -> HistoricalFacts:
    assert row.case.historical is not None
    return row.case.historical


class TestGrowingFile:
    """The larger file against the cases the smaller one started."""

    def test_superset_starts_only_the_new_rows(self) -> None:
        """3,582 rows imported, then the 3,778-row file: exactly the 196 new rows are to start."""
        first, second = plan(demo_rows(3582, seed=7)), plan(demo_rows(3778, seed=7))
        assert len(first.to_start) == 3582 and len(second.to_start) == 3778
        settled = settle_against_started(second.to_start, started_from(first))
        new_refs = {r.case_ref for r in second.to_start} - {r.case_ref for r in first.to_start}
        assert len(new_refs) == 196
        assert [r.case_ref for r in settled.to_start] == [r.case_ref for r in second.to_start if r.case_ref in new_refs]
        assert len(settled.already_imported) == 3582 and settled.changed == [] and settled.rejects == []

    def test_changed_row_named_by_field_never_value(self) -> None:
        """A row whose case was imported with other content is reported with the changed fields'
        names, in export order, and none of its values; nothing of it is to start."""
        rows = demo_rows(50)
        first = plan(rows)
        later = [dict(row) for row in rows]
        target = next(row for row in later if row["subject_dob"] and row["notes"])
        target.update(subject_dob="01/01/1970", notes="Further database checks found an older record.")
        later.append({**rows[0], "case_ref": "DEMO-2099-000001"})
        settled = settle_against_started(plan(later).to_start, started_from(first))
        assert [(c.case_ref, c.fields) for c in settled.changed] == [(target["case_ref"], ("subject_dob", "notes"))]
        assert settled.changed[0].reason == "changed since import: subject_dob, notes"
        assert [r.case_ref for r in settled.to_start] == ["DEMO-2099-000001"]
        assert len(settled.already_imported) == 49

    def test_same_values_written_another_way_are_the_same(self) -> None:
        """A date rewritten from DD/MM/YYYY to YYYY-MM-DD, or a word recased, changes the row's text
        but not the case: it counts as already imported."""
        rows = demo_rows(30)
        first = plan(rows)
        later = [dict(row) for row in rows]
        target = next(row for row in later if "/" in row["received_on"])
        day = parse_date(target["received_on"])
        assert isinstance(day, date)
        target.update(received_on=day.isoformat(), route=target["route"].upper())
        again = plan(later)
        ours = next(r for r in first.to_start if r.case_ref == target["case_ref"])
        theirs = next(r for r in again.to_start if r.case_ref == target["case_ref"])
        assert ours.digest != theirs.digest
        assert changed_fields(theirs, facts(ours)) is None

    def test_case_imported_before_field_hashes(self) -> None:
        """A case imported before fields were hashed: a different row is 'changed since import',
        with no field list; the same row is already imported."""
        rows = demo_rows(5)
        old = plan(rows, key=None)
        assert all(not facts(r).field_digests for r in old.to_start)
        later = [{**rows[0], "person_at_risk_name": "Zulu Example"}, *rows[1:]]
        settled = settle_against_started(plan(later).to_start, started_from(old))
        assert [(c.line, c.reason, c.fields) for c in settled.changed] == [(2, "changed since import", ())]
        assert len(settled.already_imported) == 4

    def test_reference_of_a_case_not_imported(self) -> None:
        """A row whose reference belongs to a case that did not come from an export is rejected."""
        first = plan(demo_rows(3))
        taken = {first.to_start[1].case_ref: None}
        settled = settle_against_started(first.to_start, taken)
        assert [(r.line, r.reason) for r in settled.rejects] == [(first.to_start[1].line, NOT_IMPORTED)]
        assert len(settled.to_start) == 2


class TestFieldHashes:
    """The per-field hashes tell changes apart without giving values away."""

    def test_no_key_no_field_hashes(self) -> None:
        """Without a key nothing is hashed per field: a plain hash of a date of birth is the date of birth."""
        assert all(facts(r).field_digests == {} for r in plan(demo_rows(5), key=None).to_start)

    def test_same_value_in_two_cases_hashes_differently(self) -> None:
        """Two cases with the same subject date of birth do not share its hash, and another key gives others."""
        rows = demo_rows(2)
        rows[1]["subject_dob"] = rows[0]["subject_dob"] = "1980-05-06"
        a, b = plan(rows).to_start
        assert a.case.application.subject.date_of_birth == b.case.application.subject.date_of_birth
        assert facts(a).field_digests["subject_dob"] != facts(b).field_digests["subject_dob"]
        other = plan_import(today_file(rows), TODAY, digest_key=b"o" * 32).to_start[0]
        assert facts(other).field_digests["subject_dob"] != facts(a).field_digests["subject_dob"]

    def test_changed_reports_names_only(self) -> None:
        """The report of a change names the fields; none of the row's values appears in it."""
        report = Changed(line=7, case_ref="WP/DVDS/2020/00001", fields=("person_at_risk_name", "notes"))
        assert report.reason == "changed since import: person_at_risk_name, notes"
