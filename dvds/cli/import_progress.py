"""What an import shows a person on the terminal: a progress bar while it runs, a summary
table at the end (the rejects file is the library's: dvds/importer/rejects.py)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from dvds.importer.run import Outcome, Tally


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:.0f} rows/s", style="progress.data.speed")


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("started {task.fields[started]}, already {task.fields[already]}, changed {task.fields[changed]}, "
                   "rejected {task.fields[rejected]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


class ProgressFeed:
    """Advances the bar on each row's outcome."""

    def __init__(self, progress: Progress, tally: Tally) -> None:
        self.progress = progress
        self.tally = tally
        self.task = progress.add_task(
            "import",
            total=tally.rows_read,
            completed=tally.done,
            started=len(tally.started),
            already=len(tally.already_imported),
            changed=len(tally.changed),
            rejected=len(tally.rejects),
        )

    def __call__(self, outcome: Outcome) -> None:
        tally = self.tally
        self.progress.update(
            self.task,
            completed=tally.done,
            started=len(tally.started),
            already=len(tally.already_imported),
            changed=len(tally.changed),
            rejected=len(tally.rejects),
        )


def summary_table(counts: dict[str, int], dry_run: bool, seconds: float) -> Table:
    title = "Import check (dry run: nothing started)" if dry_run else "Import summary"
    grid = Table(title=title, title_justify="left")
    grid.add_column("rows")
    grid.add_column("count", justify="right")
    labels = {
        "rows_read": "read",
        "valid": "valid (would start or match an imported case)",
        "started": "cases started",
        "already_imported": "already imported (nothing started)",
        "changed": "changed since import (nothing restarted; see the rejects file)",
        "rejected": "rejected (see the rejects file)",
    }
    for key, label in labels.items():
        if key in counts:
            grid.add_row(label, str(counts[key]), style="red" if key == "rejected" and counts[key] else None)
    if not dry_run and seconds > 0:
        grid.add_row("time", f"{seconds:.1f} s ({counts['rows_read'] / seconds:.0f} rows/s)")
    return grid
