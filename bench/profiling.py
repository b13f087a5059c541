"""py-spy on a running process: `record` while a phase runs, raw (collapsed stacks) for
reading and SVG for people. Root, or ptrace rights, is needed to attach."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    def __init__(self, pid: int, out: Path, rate: int = 100) -> None:
        self.out = out
        binary = py_spy()
        if binary is None:
            raise RuntimeError("py-spy is not installed: pip install py-spy")
        self.log = out.with_suffix(".log").open("wb")
        self.process = subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--nonblocking",
             *(["--gil"] if os.environ.get("BENCH_PROFILE_GIL") else []), "--output", str(out)],
            stdout=self.log, stderr=self.log,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def hottest(raw: Path, top: int = 25) -> list[tuple[str, float]]:
    """Functions by their share of samples anywhere on the stack (inclusive)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] += samples
    return [(frame, n / total) for frame, n in inclusive.most_common(top)] if total else []
