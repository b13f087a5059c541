"""The benchmark still runs end to end (20 rows). It measures nothing here: no timing
assertion, only that every phase ran and every case ended where the review put it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
