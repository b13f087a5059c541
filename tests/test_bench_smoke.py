"""The benchmark still runs end to end (20 rows). It measures nothing here: no timing
assertion, only that every phase ran and every case ended where the review put it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.phases import Review
from bench.tally import Tally, differences, expected_tally
from dvds.importer.campaign import Finding
from states.submissions import FailureType

ROOT = Path(__file__).resolve().parent.parent


class TestBenchSmoke:
    """`python -m bench.run --smoke` keeps working."""

    def test_smoke_run_reports_every_phase_and_closes_or_refers_every_case(self, tmp_path: Path) -> None:
        """A smoke run prints each phase, the ratios and the worker's memory, and its cases end closed or referred."""
        out = tmp_path / "bench.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.run", "--smoke", "--json", str(out), "--home", str(tmp_path / "home")],
            cwd=ROOT, capture_output=True, text=True, timeout=280,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "ratio lifecycle_vs_bare" in done.stdout
        figures = json.loads(out.read_text())
        assert set(figures["phases"]) == {"bare starts", "bare lifecycle", "engine import", "engine lifecycle"}
        assert all(p["cases"] == 20 for p in figures["phases"].values())
        assert figures["phases"]["engine lifecycle"]["updates"] == figures["phases"]["bare lifecycle"]["updates"]
        assert set(figures["ratios"]) == {"import_vs_bare_starts", "lifecycle_vs_bare"}
        assert figures["workers"]["case"]["peak_rss_mb"] > 0
        # Where each phase's CPU went, per process (from /proc): the server worked in every phase.
        for phase in figures["phases"].values():
            assert set(phase["cpu_ms_per_case"]) == {"server", "worker", "client"}
            assert phase["cpu_ms_per_case"]["server"] > 0
        outcome = figures["outcome"]
        assert outcome["closed"] + outcome["referred"] == 20
        assert outcome["referred"] == outcome["iopc_outbox_files"] >= 1

    def test_campaign_smoke_tallies_the_report_against_the_rows(self, tmp_path: Path) -> None:
        """`--smoke --campaign wiltshire-2024`: each failure kind confirmed, the look-backs reviewed, and the
        audit report's tally as the rows and the referral policy imply (exit 0)."""
        out = tmp_path / "campaign.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.run", "--smoke", "--campaign", "wiltshire-2024", "--json", str(out),
             "--home", str(tmp_path / "home")],
            cwd=ROOT, capture_output=True, text=True, timeout=280,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        tally = json.loads(out.read_text())["tally"]
        assert tally["differences"] == []
        assert tally["counted"]["failures_by_type"] == {"administrative": 2, "harm": 1, "service": 2}
        assert [(r["category"], r["referred"]) for r in tally["counted"]["referrals"]] == [("voluntary", 3)]
        (repeat,) = tally["counted"]["staff"]
        assert (repeat["staff_id"], repeat["confirmed_failures"], repeat["alert"]) == ("DM07", 5, True)
        assert tally["look_backs"] == repeat["look_backs"] >= 5
        assert "tally: as the rows and the referral policy imply" in done.stdout

    def test_open_cases_run_starts_every_case_and_times_the_commands(self, tmp_path: Path) -> None:
        """`--open-cases N` (in chunks) leaves N cases open and times case show, task list and case list."""
        out = tmp_path / "open.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.run", "--open-cases", "30", "--chunk", "10", "--json", str(out),
             "--home", str(tmp_path / "home")],
            cwd=ROOT, capture_output=True, text=True, timeout=280,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        figures = json.loads(out.read_text())
        assert figures["open_count"] == 30
        commands = figures["commands_seconds"]
        assert sum(c.startswith("dvds case show ") for c in commands) == 3
        assert {"dvds task list --role reviewer --json", "dvds case list --state received --json"} <= set(commands)
        assert figures["worker"]["peak_rss_mb"] > 0

    def test_reads_run_times_every_read_beside_its_anchor(self, tmp_path: Path) -> None:
        """`--reads` times the report, the lists, a case and the web pages, beside the temporal CLI where one fits."""
        out = tmp_path / "reads.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.run", "--reads", "--rows", "20", "--chunk", "10", "--json", str(out),
             "--home", str(tmp_path / "home")],
            cwd=ROOT, capture_output=True, text=True, timeout=400,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        figures = json.loads(out.read_text())
        timings = {t["command"].split(" READ-")[0]: t for t in figures["timings"]}
        assert {"dvds audit report", "dvds task list --role reviewer", "dvds case list --all", "web GET /inbox",
                "web GET /report", "web GET /search?historical=yes"} <= set(timings)
        assert timings["dvds audit report"]["anchor"].startswith("temporal workflow count")
        assert timings["dvds case list --all"]["ratio"] > 0
        assert figures["cases"] == 20 and figures["page_bytes"]["web GET /inbox"] > 0


class TestCampaignTally:
    """The tally the rows and the policy imply, and a report that differs from it is named."""

    def test_a_report_that_differs_is_named(self) -> None:
        """Expected: failures by type, referrals of the referred ones, the repeat member's look-backs; a
        counted report with one failure fewer is a difference."""
        reviews = [Review("A-1", Finding(FailureType.service, False), True, ("DM1",)),
                   Review("A-2", Finding(FailureType.administrative, False), False, ("DM1",)),
                   Review("A-3", None, False, ("DM1", "RS1")), Review("A-4", None, False, ("DM2",))]
        expected = expected_tally(reviews)
        assert expected["failures_by_type"] == {"administrative": 1, "service": 1}
        assert expected["referrals"] == [{"category": "voluntary", "cases": 1, "referred": 1, "within_limit": 1,
                                          "late": 0}]
        assert [(s["staff_id"], s["confirmed_failures"], s["look_backs"], s["alert"]) for s in expected["staff"]] == [
            ("DM1", 2, 3, True)]
        assert expected["look_backs"] == 3
        same = Tally(expected, {**expected}, 3)
        assert differences(expected, same) == []
        fewer = Tally(expected, {**expected, "failures_by_type": {"service": 1}}, 2)
        assert [d.split(":")[0] for d in differences(expected, fewer)] == ["failures_by_type", "look-backs"]
