"""Timing a phase, latency percentiles, and what /proc says about a process and the machine."""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Phase:
    name: str
    cases: int
    seconds: float = 0.0
    updates: int = 0
    activities: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # by process: server, worker, client

    def add_cpu(self, spent: dict[str, float]) -> None:
        for process, seconds in spent.items():
            self.cpu_seconds[process] = self.cpu_seconds.get(process, 0.0) + seconds

    def cpu_ms_per_case(self) -> dict[str, float]:
        return {p: round(s * 1000 / self.cases, 2) for p, s in self.cpu_seconds.items()} if self.cases else {}

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


async def each_bounded(items: Iterable[T], concurrency: int, work: Callable[[T], Awaitable[None]]) -> None:
    """`work` on every item, at most `concurrency` at once (one shared iterator)."""
    pending = iter(items)

    async def runner() -> None:
        for item in pending:
            await work(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(runner())


async def timed(latencies: list[float], call: Awaitable[T]) -> T:
    began = time.perf_counter()
    result = await call
    latencies.append(time.perf_counter() - began)
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (all its threads), from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds each named process spends between `start()` and `spent()`: where a
    phase's work went (the server, the worker, the client side)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._began: dict[str, float] = {}

    def start(self) -> None:
        self._began = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def spent(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self._began.get(name, 0.0) for name, pid in self.pids.items()}


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the most resident memory the process ever had."""
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float | None:
    return _status_mb(pid, "VmRSS")


def _status_mb(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (FileNotFoundError, StopIteration):
        memory = "unknown"
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory": memory, "python": platform.python_version()}


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
