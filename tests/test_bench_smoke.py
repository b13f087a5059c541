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
        outcome = figures["outcome"]
        assert outcome["closed"] + outcome["referred"] == 20
        assert outcome["referred"] == outcome["iopc_outbox_files"] >= 1
