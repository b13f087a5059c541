"""`dvds import FILE` (CSV or Excel, through a column profile) and `dvds demo-data`: the
historical review's applications."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dvds.cli.context import settings

if TYPE_CHECKING:
    from dvds.importer.export import Plan
    from dvds.importer.profile import ColumnProfile
    from dvds.importer.run import Tally
    from dvds.settings import Settings
    from dvds.staff.signers import MemberSigner
    from states.record import Actor


def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The force's export: CSV (UTF-8, with or without a byte-order mark) "
                                "or Excel .xlsx"),
    profile: Path | None = typer.Option(None, help="Column profile (TOML): the export's headers, words and date "
                                        "formats for our fields"),
    sheet: str | None = typer.Option(None, help="The workbook's sheet to read (default: the first)"),
    write_profile: Path | None = typer.Option(None, "--write-profile", help="Write a starting profile for this "
                                              "file here (its headers, with every unmatched header and word "
                                              "listed) and start nothing"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row; start nothing"),
    rejects: Path | None = typer.Option(None, help="Where to write rejected rows (default FILE.rejects.csv)"),
    concurrency: int = typer.Option(16, min=1, max=256, help="Cases started at once"),
    backlog: int = typer.Option(400, min=1, help="Hold starts while more first tasks than this wait for the worker"),
    actor: str | None = typer.Option(None, help="Staff id of the operator running the import (each case "
                                     "started is then signed with their credential)"),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Start a historical case for each valid row; report every other row with its line and
    reason, and each row changed since it was imported with the names of the fields that
    changed. Running it again starts nothing new, and finishes an interrupted import."""
    from dvds.cases.client import load_policy
    from dvds.cli.output import errors, fail, run
    from dvds.cli.signing import signer_for
    from dvds.errors import ReadableError
    from dvds.importer.errors import ExportError
    from dvds.importer.files import digest_key, plan_file
    from dvds.importer.profile import read_profile
    from dvds.importer.rejects import write_rejects
    from dvds.importer.run import tally_for
    from states.record import Actor
    from states.roles import Role

    try:
        data = file.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        fail(f"file: {file} is not a readable file", 2)
    config = settings(ctx)
    try:
        columns = read_profile(profile) if profile is not None else None
        if write_profile is not None:
            _write_profile(data, file.name, sheet, columns, write_profile)
            return
        policy = load_policy(config)
        plan = plan_file(data, file.name, policy, profile=columns, sheet=sheet,
                         key=None if dry_run else digest_key(config))
    except ExportError as err:
        fail(str(err), 2)
    except ReadableError as err:
        fail(str(err))
    rejects_path = rejects or file.with_name(file.stem + ".rejects.csv")
    tally = tally_for(plan)
    write_rejects(rejects_path, tally.not_started())
    if dry_run:
        counts = {"rows_read": plan.rows_read, "valid": len(plan.to_start) + len(plan.repeats),
                  "rejected": len(plan.rejects)}
        _finish(counts, tally, rejects_path, True, 0.0, json_out)
        return
    operator = Actor(id=actor, role=Role.operator) if actor else None
    signer = signer_for(ctx, actor) if actor else None
    began = time.monotonic()
    try:
        run(_import(config, plan, tally, concurrency, backlog, operator, signer))
    except KeyboardInterrupt:
        errors.print(f"interrupted after {tally.done} of {tally.rows_read} rows "
                     f"(at least {len(tally.started)} cases started); run the same command again to finish")
        raise typer.Exit(130) from None
    finally:
        write_rejects(rejects_path, tally.not_started())
    _finish(tally.counts(), tally, rejects_path, False, time.monotonic() - began, json_out)


def _write_profile(data: bytes, name: str, sheet: str | None, base: ColumnProfile | None, out: Path) -> None:
    from dvds.cli.output import errors, fail
    from dvds.importer.files import check_kind
    from dvds.importer.profile_writer import starting_profile

    check_kind(name, data, sheet)
    text = starting_profile(data, sheet, base)
    try:
        with out.open("x", encoding="utf-8") as handle:  # never over a profile a person has been finishing
            handle.write(text)
    except FileExistsError:
        fail(f"write-profile: {out} exists; give a new file name", 2)
    except OSError as err:
        fail(f"write-profile: cannot write {out} ({err.strerror})", 2)
    errors.print(f"wrote a starting profile to {out}: check it, then import with --profile {out}")


async def _import(config: Settings, plan: Plan, tally: Tally, concurrency: int, backlog: int, actor: Actor | None,
                  signer: MemberSigner | None) -> None:
    import structlog
    from rich.console import Console
    from temporalio.service import RPCError

    from dvds.cases.client import open_cases
    from dvds.cli.import_progress import ProgressFeed, progress_bar
    from dvds.cli.output import fail
    from dvds.importer.run import run_import

    logger = structlog.get_logger()
    cases = await open_cases(config, signer)
    logger.info("import started", rows_read=plan.rows_read, to_start=len(plan.to_start), concurrency=concurrency)
    with progress_bar(Console(stderr=True)) as progress:
        feed = ProgressFeed(progress, tally)
        try:
            await run_import(cases, plan, tally, concurrency, actor, on_row=feed, backlog=backlog)
        except* RPCError as group:
            first = group.exceptions[0]
            status = first.status.name if isinstance(first, RPCError) else "error"
            fail(f"the server refused a start ({status}) after {tally.done} of {tally.rows_read} rows; "
                 "run the same command again to finish")


def _finish(counts: dict[str, int], tally: Tally, rejects_path: Path, dry_run: bool, seconds: float,
            json_out: bool) -> None:
    import structlog

    from dvds.cli.import_progress import summary_table
    from dvds.cli.output import console

    logger = structlog.get_logger()
    assert sum(v for k, v in counts.items() if k != "rows_read") == counts["rows_read"], "every row is counted once"
    logger.info("import finished" if not dry_run else "import checked", seconds=round(seconds, 1), **counts)
    if json_out:
        typer.echo(json.dumps({**counts, "dry_run": dry_run, "seconds": round(seconds, 2),
                               "rejects_file": str(rejects_path)}, indent=2))
    else:
        console.print(summary_table(counts, dry_run, seconds))
        for change in tally.changed:  # field names only: the values are personal data
            console.print(f"line {change.line}: {change.case_ref} {change.reason}; nothing restarted", highlight=False)
        if counts["rejected"] or counts.get("changed"):
            console.print(f"Rows not started, with line and reason: {rejects_path}")
    if counts["rejected"] or counts.get("changed"):
        raise typer.Exit(1)


def demo_data(
    rows: int = typer.Option(3582, min=1, max=1_000_000, help="How many applications"),
    seed: int = typer.Option(..., help="Same seed, same file"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here (default: standard output)"),
    prefix: str = typer.Option("DEMO", help="Case reference prefix: PREFIX-YEAR-NUMBER"),
    profile: str | None = typer.Option(None, help="A review to reproduce (wiltshire-2024): its rows and failures"),
) -> None:
    """Write a synthetic export with the historical review's mix: about a third disclosed,
    some late decisions, a few dozen possible failures to disclose. Every name is made up.
    With --profile, the rows and the failures a review finds in them are the profile's
    (wiltshire-2024: 3,778 rows, 33 failures: 14 administrative, 17 service, 2 with harm)."""
    import re
    import sys
    from typing import TextIO

    from dvds.cli.output import errors, fail
    from dvds.importer.campaign import PROFILES, write_campaign_export
    from dvds.importer.demo_data import write_demo_export

    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", prefix):
        fail("prefix: 2 to 10 capital letters or digits, starting with a letter", 2)
    if profile is not None and profile not in PROFILES:
        fail(f"profile: one of {', '.join(PROFILES)}", 2)
    chosen = PROFILES[profile] if profile else None

    def write(handle: TextIO) -> None:
        if chosen is not None:
            write_campaign_export(handle, chosen, seed, prefix)
        else:
            write_demo_export(handle, rows, seed, prefix)

    if out is None:
        write(sys.stdout)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        write(handle)
    errors.print(f"wrote {chosen.rows if chosen else rows} rows to {out}")
