"""The historical export read row by row, without a server: what starts, what is refused and why."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from dvds.importer.demo_data import write_demo_export
from dvds.importer.export import ExportError, plan_import
from dvds.importer.rows import COLUMNS, NOT_RECORDED, ImportRow, RowContext, RowReject, parse_row
from states.record import HistoricalDecision, ReviewPriority

TODAY = RowContext(today=date(2024, 1, 31))
SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "historical_sample.csv"
GOOD = {
    "case_ref": "HIST-2016-000001",
    "route": "right_to_ask",
    "received_on": "2016-04-01",
    "applicant_relationship": "self",
    "person_at_risk_name": "Alpha Example",
    "person_at_risk_dob": "1990-01-02",
    "subject_name": "Bravo Sample",
    "subject_aliases": "Bravo Sampleson; B. Sample",
    "subject_dob": "01/02/1985",
    "research_completed_on": "2016-04-05",
    "risk_level": "medium",
    "decision": "disclosed",
    "decision_on": "20/04/2016",
    "disclosure_delivered_on": "2016-04-25",
    "subject_has_relevant_history": "yes",
    "notes": "",
}
NAMES = ("Alpha Example", "Bravo Sample", "Sampleson")


def good(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def export(*rows: dict[str, str], bom: bool = False, tail: str = "") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue() + tail).encode("utf-8")


def refused(cells: dict[str, str]) -> str:
    result = parse_row(2, cells, TODAY)
    assert isinstance(result, RowReject)
    return result.reason


class TestOneRow:
    """One row becomes a historical case input, or is refused naming the column and rule."""

    def test_good_row_becomes_historical_case(self) -> None:
        """A good row carries its people in the application and its facts as imported history."""
        row = parse_row(7, GOOD, TODAY)
        assert isinstance(row, ImportRow)
        case = row.case
        assert case.ref == "HIST-2016-000001"
        assert case.application.person_at_risk.name == "Alpha Example"
        assert case.application.subject.aliases == ["Bravo Sampleson", "B. Sample"]
        assert case.application.subject.date_of_birth == date(1985, 2, 1)
        assert case.application.safe_contact.detail == NOT_RECORDED
        assert case.received_at is not None and case.received_at.date() == date(2016, 4, 1)
        facts = case.historical
        assert facts is not None and facts.source_line == 7 and facts.source_digest == row.digest
        assert facts.decision is HistoricalDecision.disclosed and facts.decision_on == date(2016, 4, 20)

    def test_digest_ignores_line_and_padding(self) -> None:
        """The same row read at another line, or with spaces around values, is recognised as the same."""
        first = parse_row(2, GOOD, TODAY)
        moved = parse_row(90, {k: f" {v} " for k, v in GOOD.items()}, TODAY)
        changed = parse_row(2, good(notes="later note"), TODAY)
        assert isinstance(first, ImportRow) and isinstance(moved, ImportRow) and isinstance(changed, ImportRow)
        assert first.digest == moved.digest != changed.digest

    def test_digest_of_todays_rows_unchanged(self) -> None:
        """The row digest is the one cases already imported were started with, so re-importing
        today's file still recognises them: SHA-256 of the stripped values, by column, as JSON."""
        row = parse_row(2, {**GOOD, "notes": "  padded  "}, TODAY)
        canonical = json.dumps({column: {**GOOD, "notes": "padded"}[column] for column in COLUMNS}, sort_keys=True)
        assert isinstance(row, ImportRow) and row.digest == hashlib.sha256(canonical.encode()).hexdigest()

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"received_on": "2016/04/01"}, "received_on: not a date; use YYYY-MM-DD or DD/MM/YYYY"),
            ({"received_on": "April 2016"}, "received_on: not a date"),
            ({"received_on": "31/02/2016"}, "received_on: not a real date"),
            ({"decision_on": "2016-13-01"}, "decision_on: not a real date"),
            ({"disclosure_delivered_on": "2031-01-01"}, "disclosure_delivered_on: must not be in the future"),
            ({"decision_on": "2016-03-01", "disclosure_delivered_on": ""},
             "decision_on: must not be before received_on"),
            ({"research_completed_on": "2016-03-31"}, "research_completed_on: must not be before received_on"),
            ({"disclosure_delivered_on": "2016-04-19"}, "disclosure_delivered_on: must not be before decision_on"),
            ({"route": "right_to_complain"}, "route: must be one of right_to_ask | right_to_know"),
            ({"decision": "maybe"}, "decision: must be one of disclosed | declined | withdrawn | none"),
            ({"risk_level": "extreme"}, "risk_level: must be one of standard | medium | high"),
            ({"subject_has_relevant_history": "y"}, "subject_has_relevant_history: must be one of yes | no | unknown"),
            ({"person_at_risk_name": ""}, "person_at_risk_name: required"),
            ({"decision": "  "}, "decision: required"),
            ({"case_ref": "2016/1 Example"}, "case_ref: must be 3 to 40 letters, digits or - / _ . with at least one "
             "digit and no spaces"),
            ({"case_ref": "WP@2016-1"}, "case_ref: must be 3 to 40 letters"),
            ({"case_ref": "WP-DVDS-2020-" + "0" * 28}, "case_ref: must be 3 to 40 letters"),
            ({"subject_dob": "1850-01-01"}, "subject_dob: must be in 1900 or later"),
            ({"person_at_risk_dob": "2017-01-01"}, "person_at_risk_dob: must not be after received_on"),
            ({"decision": "declined"}, "disclosure_delivered_on: must be blank unless decision is disclosed"),
            ({"decision": "none", "disclosure_delivered_on": ""}, "decision_on: must be blank when decision is none"),
            ({"subject_name": "x" * 2001}, "subject_name: string should have at most 2000 characters"),
        ],
    )
    def test_bad_row_names_column_and_rule(self, changes: dict[str, str], reason: str) -> None:
        """Each broken rule is reported as 'column: rule', without the value."""
        message = refused(good(**changes))
        assert reason in message
        for value in [*changes.values(), *NAMES]:
            if len(value.strip()) > 3 and value not in reason:  # a value the rule itself does not spell
                assert value not in message

    def test_every_broken_rule_reported(self) -> None:
        """A row breaking several rules reports each of them, not only the first."""
        message = refused(good(route="", received_on="32/01/2016", risk_level="low"))
        assert message.split("; ") == [
            "route: required", "received_on: not a real date", "risk_level: must be one of standard | medium | high",
        ]

    @pytest.mark.parametrize(
        ("changes", "priority"),
        [
            ({"decision": "declined", "disclosure_delivered_on": ""}, ReviewPriority.possible_failure_to_disclose),
            ({"disclosure_delivered_on": ""}, ReviewPriority.possible_failure_to_disclose),
            ({"decision_on": "2016-05-07", "disclosure_delivered_on": "", "decision": "declined",
              "subject_has_relevant_history": "no"}, ReviewPriority.late_or_no_decision),
            ({"decision": "none", "decision_on": "", "disclosure_delivered_on": "",
              "subject_has_relevant_history": "unknown"}, ReviewPriority.late_or_no_decision),
            ({"decision_on": "2016-05-06", "disclosure_delivered_on": "2016-05-07"}, ReviewPriority.routine),
            ({}, ReviewPriority.routine),
        ],
    )
    def test_review_priority(self, changes: dict[str, str], priority: ReviewPriority) -> None:
        """History not disclosed comes first, then decisions after 35 days or never made, then the rest."""
        row = parse_row(2, good(**changes), TODAY)
        assert isinstance(row, ImportRow) and row.case.historical is not None
        assert row.case.historical.priority is priority


class TestWholeFile:
    """A whole export: every row read lands in exactly one place, with the line it starts on."""

    def test_file_built_to_break_it(self) -> None:
        """Every kind of bad row is rejected with its line and reason; every good row is planned."""
        data = export(
            good(case_ref="HIST-2016-000001", notes="Checked PNC, local intel.\nDelivered, with a plan."),  # 2-3
            good(case_ref="HIST-2016-000002", received_on="2016/04/01"),  # 4 bad format
            good(case_ref="HIST-2016-000003", received_on="30/02/2016"),  # 5 impossible date
            good(case_ref="HIST-2016-000004", decision_on="2016-03-01", disclosure_delivered_on=""),  # 6 before
            good(case_ref="HIST-2016-000005", decision="granted"),  # 7 unknown value
            good(case_ref="HIST-2016-000006", subject_name=""),  # 8 missing required
            good(case_ref="HIST-2016-000007", notes="first version"),  # 9 conflict
            good(case_ref="HIST-2016-000007", notes="second version"),  # 10 conflict
            good(case_ref="HIST-2016-000008", route="right_to_know", applicant_relationship="police"),  # 11 good
            good(case_ref="HIST-2016-000008", route="right_to_know", applicant_relationship="police"),  # 12 repeat
            good(case_ref="HIST-2016-000009", subject_aliases="A, with comma; B\non two lines"),  # 13-14 good
            bom=True,
            tail=(
                "\r\n"  # 15: a blank line is not a row
                "HIST-2016-000010,right_to_ask,2016-04-01\r\n"  # 16 too few fields
                'HIST-2016-000011,"right_to_ask"x,2016-04-01' + "," * 13 + "\r\n"  # 17 broken quoting
                + ",".join(good(case_ref="HIST-2016-000012").values()) + "\r\n"  # 18 good after the breakage
            ),
        )
        plan = plan_import(data, TODAY)
        assert plan.rows_read == 14
        assert len(plan.to_start) + len(plan.repeats) + len(plan.rejects) == plan.rows_read
        assert [r.line for r in plan.to_start] == [2, 11, 13, 18]
        assert [(r.line, r.first_line) for r in plan.repeats] == [(12, 11)]
        reasons = {r.line: r.reason for r in plan.rejects}
        assert reasons == {
            4: "received_on: not a date; use YYYY-MM-DD or DD/MM/YYYY",
            5: "received_on: not a real date",
            6: "decision_on: must not be before received_on",
            7: "decision: must be one of disclosed | declined | withdrawn | none",
            8: "subject_name: required",
            9: "case_ref: the same case_ref is on lines 9, 10 with different content",
            10: "case_ref: the same case_ref is on lines 9, 10 with different content",
            16: "row: has 3 fields; the header has 16",
            17: "row: a quoted field must be followed by a comma or the end of the line",
        }
        first = plan.to_start[0].case
        assert first.ref == "HIST-2016-000001"  # the byte-order mark did not stick to the first column
        assert first.historical is not None
        assert first.historical.notes == "Checked PNC, local intel.\nDelivered, with a plan."
        assert plan.to_start[2].case.application.subject.aliases == ["A, with comma", "B\non two lines"]

    def test_unclosed_quote_is_one_reject(self) -> None:
        """A quote never closed is reported on its line, and the rows before it still start."""
        data = export(GOOD, tail='HIST-2016-000002,"right_to_ask,2016-04-01\r\nmore,text\r\n')
        plan = plan_import(data, TODAY)
        assert [r.line for r in plan.to_start] == [2]
        assert [(r.line, r.reason) for r in plan.rejects] == [(3, "row: a quote opened on this line is never closed")]

    def test_same_ref_in_a_bad_row_blocks_the_good_one(self) -> None:
        """A good row whose case_ref is shared with a different, bad row waits for a person to choose."""
        plan = plan_import(export(GOOD, good(received_on="nope")), TODAY)
        assert plan.to_start == []
        assert [r.line for r in plan.rejects] == [2, 3]

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            (",".join(c for c in COLUMNS if c != "notes"), "header: missing notes"),
            (",".join([*COLUMNS, "officer"]), "header: unknown 'officer'"),
            ("", "file: empty"),
        ],
    )
    def test_bad_header_refuses_the_file(self, header: str, message: str) -> None:
        """A header without the documented columns refuses the whole file, naming the columns."""
        with pytest.raises(ExportError, match=message):
            plan_import((header + "\n" if header else "").encode(), TODAY)

    def test_not_utf8_refuses_the_file(self) -> None:
        """A file that is not UTF-8 is refused as a whole, before any row is read."""
        with pytest.raises(ExportError, match="not UTF-8"):
            plan_import(",".join(COLUMNS).encode() + b"\nHIST-2016-000001,\xe9\n", TODAY)

    def test_sample_file_has_every_decision_and_priority(self) -> None:
        """examples/historical_sample.csv is all valid and shows each decision and review priority."""
        plan = plan_import(SAMPLE.read_bytes(), TODAY)
        assert plan.rejects == [] and len(plan.to_start) == 12
        facts = [r.case.historical for r in plan.to_start if r.case.historical]
        assert {f.decision for f in facts} == set(HistoricalDecision)
        assert {f.priority for f in facts} == set(ReviewPriority) - {ReviewPriority.look_back}  # a look-back's own


class TestDemoData:
    """The synthetic export: the review's mix, reproducible, and valid."""

    def test_review_mix(self) -> None:
        """3,582 demo rows are all valid: about a third disclosed, some late, a few dozen possible failures."""
        out = io.StringIO()
        write_demo_export(out, 3582, seed=4)
        plan = plan_import(out.getvalue().encode(), RowContext(today=date(2025, 1, 1)))  # demo dates end in late 2024
        assert plan.rows_read == 3582 and len(plan.to_start) == 3582
        facts = [r.case.historical for r in plan.to_start if r.case.historical]
        decisions = Counter(f.decision for f in facts)
        priorities = Counter(f.priority for f in facts)
        assert 0.28 < decisions[HistoricalDecision.disclosed] / 3582 < 0.38
        assert 12 <= priorities[ReviewPriority.possible_failure_to_disclose] <= 80
        assert priorities[ReviewPriority.late_or_no_decision] >= 300

    def test_same_seed_same_file(self) -> None:
        """The same seed writes the same file; another seed writes another."""
        files = []
        for seed in (1, 1, 2):
            out = io.StringIO()
            write_demo_export(out, 50, seed)
            files.append(out.getvalue())
        assert files[0] == files[1] != files[2]
