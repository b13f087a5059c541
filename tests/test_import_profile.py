"""A force's export with its own headers, words and date formats, read through a column
profile: the same cases as today's columns, and a bad profile refused before any row is read."""

from __future__ import annotations

import csv
import inspect
import io
import tomllib
from typing import Any

import pytest

from dvds.importer.demo_data import FIRST, LAST
from dvds.importer.errors import ProfileError
from dvds.importer.export import Plan, open_export, plan_import
from dvds.importer.profile import ColumnProfile, load_profile
from dvds.importer.profile_writer import starting_profile
from dvds.importer.rows import ImportRow, RowReject
from tests.helpers.exports import (
    FORCE_PROFILE,
    FORMATS,
    HEADERS,
    KEY,
    TODAY,
    WORDS,
    as_csv,
    demo_rows,
    force_file,
    force_style,
    today_file,
)


def same_cases(ours: Plan, theirs: Plan) -> None:
    """The two plans start the same cases: everything equal but the digest of the row's text."""
    assert [r.line for r in ours.to_start] == [r.line for r in theirs.to_start]
    for a, b in zip(ours.to_start, theirs.to_start, strict=True):
        assert a.case.historical and b.case.historical and a.case.historical.field_digests
        skip: Any = {"historical": {"source_digest"}}
        assert a.case.model_dump(exclude=skip) == b.case.model_dump(exclude=skip)


def refused_before_rows(data: bytes, profile: ColumnProfile) -> str:
    table = open_export(data)
    with pytest.raises(ProfileError) as refused:
        profile.columns_in(table.header)
    assert inspect.getgeneratorstate(table.records) == inspect.GEN_CREATED  # type: ignore[arg-type]
    with pytest.raises(ProfileError):
        plan_import(data, TODAY, profile=profile)
    return str(refused.value)


class TestForceExport:
    """An export in the force's own shape gives the cases today's columns give."""

    def test_profile_gives_the_same_cases_as_todays_columns(self) -> None:
        """Other headers in another order, other words in any case and spacing, other date formats
        and columns we do not read: the same cases, facts and field hashes as today's file."""
        rows = demo_rows(400)
        ours = plan_import(today_file(rows), TODAY, digest_key=KEY)
        theirs = plan_import(force_file(rows), TODAY, profile=load_profile(FORCE_PROFILE), digest_key=KEY)
        assert len(ours.to_start) == 400 and theirs.rejects == []
        same_cases(ours, theirs)

    def test_force_words_in_reasons(self) -> None:
        """A word the profile does not know is refused, listing the words the profile accepts."""
        rows = demo_rows(3)
        data = force_file(rows).replace(b"NFA", b"Granted").replace(b"Disclosure made", b"Granted")
        plan = plan_import(data, TODAY, profile=load_profile(FORCE_PROFILE))
        assert plan.rejects, "a row had an outcome to break"
        assert all("Outcome" not in r.reason for r in plan.rejects)
        assert plan.rejects[0].reason == (
            "decision: must be one of Disclosure made | NFA | Withdrawn by applicant | Not decided")

    def test_dates_in_other_formats_refused_with_the_profiles_formats(self) -> None:
        """A date written in none of the profile's formats is refused naming the formats; an
        impossible date as not real."""
        rows = demo_rows(1)
        profile = load_profile(FORCE_PROFILE)
        first = force_style(rows[0], 0)
        header = list(first)
        rows_written = [
            {**first, "Date received": "2016-04-01"},
            {**first, "Reference": "DEMO-2016-9", "Date received": "31.02.2016"},
        ]
        plan = plan_import(as_csv(header, rows_written), TODAY, profile=profile)
        assert [r.reasons[0] for r in plan.rejects] == [
            "received_on: not a date; use %d-%b-%Y or %d.%m.%Y", "received_on: not a real date"]

    def test_column_the_export_lacks(self) -> None:
        """An optional field given "" is read as blank: the export has no such column."""
        rows = demo_rows(20)
        data = force_file(rows)
        table = list(csv.DictReader(io.StringIO(data.decode())))
        for row in table:
            del row["Comments"], row["Subject AKA"]
        header = [h for h in table[0] if h]
        profile = load_profile(FORCE_PROFILE.replace('notes = "Comments"', 'notes = ""')
                               .replace('subject_aliases = "Subject AKA"', 'subject_aliases = ""'))
        plan = plan_import(as_csv(header, table), TODAY, profile=profile)
        assert len(plan.to_start) == 20
        assert all(r.case.historical and r.case.historical.notes is None for r in plan.to_start)

    def test_todays_file_unchanged_with_empty_profile(self) -> None:
        """An empty profile reads today's file exactly as no profile does, digests included."""
        data = today_file(demo_rows(200))
        assert plan_import(data, TODAY, profile=load_profile("")) == plan_import(data, TODAY)


class TestStartingProfile:
    """A profile written from an export: what matched, and what a person must still say."""

    def test_written_from_todays_file_reads_it_unchanged(self) -> None:
        """Written from today's columns, the profile loads and gives the same plan as no profile."""
        data = today_file(demo_rows(200))
        profile = load_profile(starting_profile(data))
        assert plan_import(data, TODAY, profile=profile) == plan_import(data, TODAY)

    def test_lists_unmatched_headers_and_words_never_values(self) -> None:
        """Headers no field matches are listed; once the columns are named, every word of a
        choice column and the date formats are; names, dates and notes never appear."""
        rows = demo_rows(300)
        data = force_file(rows)
        first = starting_profile(data)
        spelled = {"route", "person_at_risk_dob", "subject_dob"}  # headers spelling our field's name
        assert tomllib.loads(first)["columns"] == {f: HEADERS[f] for f in spelled}
        for field, header in HEADERS.items():
            assert (f'#   "{header}"' in first) == (field not in spelled)
        named = load_profile("[columns]\n" + "\n".join(f'{f} = "{h}"' for f, h in HEADERS.items()))
        second = starting_profile(data, base=named)
        written = tomllib.loads(second)
        assert written["columns"] == HEADERS
        for field, words in WORDS.items():
            for ours, word in words.items():
                if word.casefold() != ours:  # "Self" is our "self": nothing to list
                    assert f'"{word.casefold()}"' in second.casefold(), (field, word)
        assert set(written["dates"]["formats"]) == set(FORMATS)
        for text in (first, second):
            for name in (*FIRST, *LAST):
                assert name not in text
            assert "PC 1" not in text and "North" not in text
            assert "2016" not in text and "Checked PNC" not in text

    def test_finished_profile_imports(self) -> None:
        """The starting profile, with each listed word put under the value it means, imports the file."""
        rows = demo_rows(100)
        data = force_file(rows)
        named = load_profile("[columns]\n" + "\n".join(f'{f} = "{h}"' for f, h in HEADERS.items()))
        written = tomllib.loads(starting_profile(data, base=named))
        for field, words in WORDS.items():
            written["values"][field] = {ours: [theirs] for ours, theirs in words.items()}
        profile = ColumnProfile.model_validate(written)
        plan = plan_import(data, TODAY, profile=profile)
        assert plan.rejects == [] and len(plan.to_start) == 100


BAD_PROFILES = [
    ('[columns]\nofficer = "Officer"', "columns.officer: not one of our fields (case_ref, route,"),
    ('[values.decision]\ngranted = ["Granted"]',
     "values.decision.granted: not a value of decision (disclosed | declined | withdrawn | none)"),
    ('[values.notes]\nlong = ["Long"]', "values.notes: not a field with a choice of words (route |"),
    ('[columns]\nreceived_on = "Date"\ndecision_on = " date "',
     "columns.received_on and columns.decision_on: two fields on one header ('Date'); each field needs its own"),
    ('[columns]\nnotes = "Decision"', "columns.decision and columns.notes: two fields on one header"),
    ('[columns]\ncase_ref = ""', "columns.case_ref: a required field; it needs the export's header"),
    ('[columns]\ncase_ref = 5', "columns.case_ref: input should be a valid string"),
    ('[values.decision]\nwithdrawn = ["None"]',
     "values.decision: the word 'none' means both none and withdrawn; a word means one value"),
    ('[values.decision]\ndeclined = []', "values.decision.declined: must list at least one word"),
    ('[dates]\nformats = ["%d/%m"]', "dates.formats[0]: '%d/%m' does not read a day, a month and a year"),
    ('[dates]\nformats = ["%Y-%m-%d", "%Q"]', "dates.formats[1]: '%Q' does not read a day, a month and a year"),
    ('[dates]\nformats = ["%m/%Y"]', "dates.formats[0]: '%m/%Y' does not read"),
    ("[dates]\nformats = []", "dates.formats: must list at least one format"),
    ('[colums]\ncase_ref = "Reference"', "colums: not a key of a column profile"),
    ('[dates]\nformat = ["%d/%m/%Y"]', "dates.format: not a key of a column profile"),
    ('[columns\ncase_ref = "Reference"', "profile: not valid TOML"),
]


class TestBadProfile:
    """A bad profile is refused as a whole, naming each key and its rule, before any row is read."""

    @pytest.mark.parametrize(("text", "message"), BAD_PROFILES)
    def test_refused_when_loaded(self, text: str, message: str) -> None:
        """Each mistake in a profile is refused when it is loaded, naming the key and the rule."""
        with pytest.raises(ProfileError) as refused:
            load_profile(text)
        assert message in str(refused.value)

    def test_every_problem_named(self) -> None:
        """A profile with several mistakes names each of them."""
        with pytest.raises(ProfileError) as refused:
            load_profile('[columns]\nofficer = "O"\n[values.decision]\ngranted = ["G"]\n[dates]\nformats = ["%Q"]')
        assert str(refused.value).count("; ") == 2

    def test_header_missing_from_the_file(self) -> None:
        """A header the profile names that the file lacks refuses the file before any row is read."""
        data = force_file(demo_rows(5)).replace(b"Date received", b"Received")
        message = refused_before_rows(data, load_profile(FORCE_PROFILE))
        assert message == "columns.received_on: the file has no header 'Date received'"

    def test_field_not_in_profile_missing_from_the_file(self) -> None:
        """A field the profile leaves out keeps its own name as its header; a file without it is refused."""
        profile = load_profile(FORCE_PROFILE.replace('notes = "Comments"\n', ""))
        message = refused_before_rows(force_file(demo_rows(5)), profile)
        assert message == ("columns.notes: not in the profile and the file has no header 'notes'; name the "
                           "export's header for it, or \"\" if the export has no such column")

    def test_header_twice_in_the_file(self) -> None:
        """A header read for a field that appears twice in the file refuses it."""
        data = force_file(demo_rows(5)).replace(b"Officer", b"Outcome", 1)
        message = refused_before_rows(data, load_profile(FORCE_PROFILE))
        assert message == "columns.decision: the file has 2 headers 'Outcome'"

    def test_good_rows_untouched_by_refusal(self) -> None:
        """A profile that fits starts every row; the same file with a broken profile yields no plan at all."""
        data = force_file(demo_rows(5))
        assert len(plan_import(data, TODAY, profile=load_profile(FORCE_PROFILE)).to_start) == 5
        with pytest.raises(ProfileError):
            plan_import(data, TODAY, profile=load_profile(FORCE_PROFILE.replace('"NFA"', '"Not decided"')))


class TestForceReferences:
    """References in the force's own style import as written."""

    def test_force_style_references_start_as_written(self) -> None:
        """WP-DVDS-2020-00000, WP/DVDS/2020/00001, CL-21-0042 and 0001234 each start a case with that reference."""
        refs = ["WP-DVDS-2020-00000", "WP/DVDS/2020/00001", "CL-21-0042", "0001234", "DVDS-2016-000123"]
        rows = demo_rows(len(refs) + 2)
        for row, ref in zip(rows, [*refs, "WP DVDS 2020 1", "WP@DVDS-2020-2"], strict=True):
            row["case_ref"] = ref
        plan = plan_import(today_file(rows), TODAY)
        assert [r.case.ref for r in plan.to_start] == refs
        rejected: list[ImportRow | RowReject] = list(plan.rejects)
        assert [r.line for r in rejected] == [7, 8]
        assert all(r.reasons == ("case_ref: must be 3 to 40 letters, digits or - / _ . with at least one digit "
                                 "and no spaces",) for r in plan.rejects)
