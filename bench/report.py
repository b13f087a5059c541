"""What the bench prints: each phase's cases per second, the ratios engine / bare, update
latency, and the worker's peak memory with its cache. Also as JSON (--json) for CI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.measure import Phase
from bench.tally import Tally

TARGET_RATIO = 0.8
TARGET_P99_SECONDS = 1.0


@dataclass
class Report:
    rows: int
    concurrency: int
    machine: dict[str, str]
    load_before: str
    load_after: str = ""
    phases: dict[str, Phase] = field(default_factory=dict)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcome: dict[str, int] = field(default_factory=dict)
    tally: Tally | None = None

    def ratio(self, engine: str, bare: str) -> float:
        base = self.phases[bare].per_second
        return self.phases[engine].per_second / base if base else 0.0

    def as_dict(self) -> dict[str, Any]:
        phases = {
            name: {"cases": p.cases, "seconds": round(p.seconds, 3), "cases_per_second": round(p.per_second, 1),
                   "updates": p.updates, "activities": p.activities,
                   "update_p50_ms": _ms(p.percentile(0.5)), "update_p99_ms": _ms(p.percentile(0.99)),
                   "cpu_ms_per_case": p.cpu_ms_per_case()}
            for name, p in self.phases.items()
        }
        ratios = {}
        if {"engine import", "bare starts"} <= self.phases.keys():
            ratios["import_vs_bare_starts"] = round(self.ratio("engine import", "bare starts"), 3)
        if {"engine lifecycle", "bare lifecycle"} <= self.phases.keys():
            ratios["lifecycle_vs_bare"] = round(self.ratio("engine lifecycle", "bare lifecycle"), 3)
        return {"rows": self.rows, "concurrency": self.concurrency, "machine": self.machine,
                "load_before": self.load_before, "load_after": self.load_after, "phases": phases,
                "ratios": ratios, "workers": self.workers, "outcome": self.outcome,
                "tally": self.tally.as_dict() if self.tally else None}

    def text(self) -> str:
        data = self.as_dict()
        lines = [
            f"DVDS bench: {self.rows} rows, concurrency {self.concurrency}",
            f"machine: {self.machine['nproc']} cpus, {self.machine['cpu']}, {self.machine['memory']}; "
            f"load average before {self.load_before}, after {self.load_after}",
            "",
            f"{'phase':<18}{'cases':>7}{'seconds':>9}{'cases/s':>9}{'updates':>9}{'activities':>11}"
            f"{'p50 ms':>8}{'p99 ms':>8}",
        ]
        for name, p in data["phases"].items():
            lines.append(f"{name:<18}{p['cases']:>7}{p['seconds']:>9.1f}{p['cases_per_second']:>9.1f}"
                         f"{p['updates']:>9}{p['activities']:>11}{_cell(p['update_p50_ms']):>8}"
                         f"{_cell(p['update_p99_ms']):>8}")
        lines.append("")
        if any(p["cpu_ms_per_case"] for p in data["phases"].values()):
            lines.append("CPU ms per case (server, worker, client):")
            for name, p in data["phases"].items():
                cpu = p["cpu_ms_per_case"]
                if not cpu:
                    continue
                lines.append(f"  {name:<18}" + "  ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
            lines.append("")
        for name, value in data["ratios"].items():
            verdict = "meets" if value >= TARGET_RATIO else "MISSES"
            lines.append(f"ratio {name}: {value:.3f} ({verdict} the {TARGET_RATIO} target)")
        engine = self.phases.get("engine lifecycle")
        if engine and engine.latencies:
            p99 = engine.percentile(0.99) or 0.0
            verdict = "meets" if p99 < TARGET_P99_SECONDS else "MISSES"
            lines.append(f"engine update latency: median {_cell(_ms(engine.percentile(0.5)))} ms, "
                         f"p99 {_cell(_ms(p99))} ms ({verdict} the {TARGET_P99_SECONDS:.0f} s target)")
        for kind, w in self.workers.items():
            lines.append(f"{kind} worker: peak memory {_cell(w.get('peak_rss_mb'))} MB, "
                         f"cases in cache {w.get('cached')} now / {w.get('peak_cached')} at most "
                         f"(max_cached_workflows {w.get('max_cached')}); garbage collector "
                         f"{w.get('gc_ms')} ms in all, {w.get('gc_ms_reviews')} ms of it after the imports "
                         f"({w.get('gc_full')} full collections)")
        if self.outcome:
            lines.append("outcome: " + ", ".join(f"{k} {v}" for k, v in self.outcome.items()))
        if self.tally is not None:
            lines.append(self.tally.text())
        return "\n".join(lines)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
