"""`dvds audit history|report|archive|verify|verify-signatures`: the case history as evidence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dvds.cli.commands import signatures
from dvds.cli.context import settings

if TYPE_CHECKING:
    from dvds.audit.report import AuditReport
    from dvds.audit.timeline import Entry, Timeline

app = typer.Typer(rich_markup_mode=None, help="For auditors: case timelines, the report, the archive.",
                  no_args_is_help=True)

DIR_HELP = "Archive directory (default: $DVDS_HOME/archive)"


def archive_dir(ctx: typer.Context, directory: Path | None) -> Path:
    return directory or settings(ctx).archive_dir


def _by(entry: Entry) -> str:
    if entry.imported:
        return "imported record"
    if entry.actor:
        return f"{entry.actor} ({entry.role})" if entry.role else entry.actor
    return "the case"


def _print_timeline(timeline: Timeline, raw: bool) -> None:
    from dvds.audit.timeline import for_people
    from dvds.cli.output import console, table, when

    runs = f" (the last of {len(timeline.runs)} runs)" if len(timeline.runs) > 1 else ""
    console.print(
        f"[bold]{timeline.ref}[/]  run {timeline.run_id}{runs}  {timeline.status}  (from the {timeline.source})"
    )
    console.print("path: " + " -> ".join(timeline.path))
    table(
        "Timeline",
        ["when", "kind", "what", "by", "outcome", "attempts", "state"],
        [
            (when(e.at), e.kind, e.what, _by(e),
             (e.outcome or "") + (f" {when(e.finished_at)}" if e.finished_at and e.finished_at != e.at else ""),
             e.attempts if e.attempts else "", e.state or "")
            for e in for_people(timeline.entries, raw)
        ],
    )


@app.command()
def history(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Case reference"),
    json_out: bool = typer.Option(False, "--json", help="Export the timeline as JSON"),
    show_diagram: bool = typer.Option(False, "--diagram", help="The state diagram with the case's path (Mermaid)"),
    submissions: bool = typer.Option(
        False, "--submissions", help="Include what staff submitted and the application: PERSONAL DATA"
    ),
    raw: bool = typer.Option(False, "--raw", help="Every entry, state entries as the search attributes they set"),
    directory: Path | None = typer.Option(None, "--dir", help=DIR_HELP),
) -> None:
    """A case's timeline from the server's event history (or the archive).

    Every task with actor, role and time; timers, notifications, escalations and the IOPC
    referral with their attempts; state changes; imported facts marked imported."""
    from dvds.audit.history import case_timeline
    from dvds.cli.output import emit_json, run
    from dvds.connection.client import connect
    from states.machine import diagram

    async def go() -> Timeline:
        return await case_timeline(await connect(settings(ctx)), ref, archive_dir(ctx, directory), submissions)

    timeline = run(go())
    if show_diagram:
        typer.echo(diagram(timeline.path))
    elif json_out:
        emit_json(timeline)
    else:
        _print_timeline(timeline, raw)


@app.command()
def report(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print JSON"),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV: section,item,value"),
    received_from: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Received on or after"),
    received_to: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Received on or before"),
    historical: bool | None = typer.Option(None, "--historical/--new", help="Historical or new applications"),
    each_case: bool = typer.Option(False, "--each-case", help="Read every case's snapshot (the slow reference)"),
) -> None:
    """Cases by state, route, risk; overdue; receipt to decision; failures; referrals.

    Counted in visibility from the facts each case publishes. Cases from before those facts
    are read one by one (open ones need the worker running, dvds up); the report says how many."""
    import csv
    import sys
    from datetime import UTC

    from dvds.audit.report import build_report, gather_snapshots, report_rows
    from dvds.audit.visibility_report import visibility_report
    from dvds.cases.client import open_cases
    from dvds.cases.queries import build_query
    from dvds.cases.referrals import organisational_referrals
    from dvds.cli.output import emit_json, fail, run

    if json_out and csv_out:
        fail("--json and --csv: choose one", 2)
    query = build_query(
        historical=historical,
        received_from=received_from.date() if received_from else None,
        received_to=received_to.date() if received_to else None,
    )
    filters = {
        "received_from": received_from and received_from.date().isoformat(),
        "received_to": received_to and received_to.date().isoformat(),
        "historical": historical,
    }

    async def go() -> AuditReport:
        cases = await open_cases(settings(ctx))
        if each_case:
            snapshots = await gather_snapshots(cases, query)
            report = build_report(snapshots, datetime.now(UTC), cases.policy.timezone, filters)
        else:
            report = await visibility_report(cases, query, datetime.now(UTC), cases.policy.timezone, filters)
        return report.model_copy(update={"organisational_referrals": await organisational_referrals(cases.client)})

    result = run(go())
    if json_out:
        emit_json(result)
    elif csv_out:
        writer = csv.writer(sys.stdout)
        writer.writerow(["section", "item", "value"])
        writer.writerows(report_rows(result))
    else:
        _print_report(result)


def _print_report(result: AuditReport) -> None:
    from dvds.cli.output import console, errors, table, when

    shown = ", ".join(f"{k} {v}" for k, v in result.filters.items() if v is not None) or "all cases"
    console.print(f"[bold]Audit report[/] {when(result.generated_at)}: {result.cases} cases ({shown})")
    if result.counted_by_snapshot:
        console.print(f"{result.counted_by_snapshot} of them read one by one: they carry no report facts "
                      "(ended before them, or not acted on since)")
    if result.unreadable:
        errors.print(f"{len(result.unreadable)} case(s) could not be read (no worker answered) and are left out of "
                     f"the figures read case by case: {', '.join(result.unreadable)}", highlight=False, soft_wrap=True)
    for title, counts in (("By state", result.by_state), ("By route", result.by_route),
                          ("By risk level", result.by_risk_level), ("Failures by type", result.failures_by_type)):
        table(title, ["", "cases"], list(counts.items()))
    table(f"Overdue ({len(result.overdue)})", ["ref", "state", "past due"],
          [(c.ref, c.state, ", ".join(c.deadlines)) for c in result.overdue])
    t = result.decision_times
    table("Receipt to decision", ["decided", "not decided", "median days", "90th pct days", "over 28 days",
                                  "over 35 days"],
          [(t.decided, t.not_decided, t.median_days or "-", t.p90_days or "-",
            f"{t.over_28_days} ({_share(t.share_over_28)})", f"{t.over_35_days} ({_share(t.share_over_35)})")])
    table("IOPC referrals (limit: end of the day after confirmation)",
          ["category", "cases", "referred", "within limit", "late", "pending, past limit", "median hours", "max hours"],
          [(r.category, r.cases, r.referred, r.within_limit, r.late, r.pending_overdue, r.median_hours or "-",
            r.max_hours or "-") for r in result.referrals])
    if result.organisational_referrals:
        table("Organisational referrals", ["ref", "category", "IOPC reference", "cases"],
              [(r.ref, r.category, r.iopc_reference, ", ".join(r.cases)) for r in result.organisational_referrals])
    if result.staff:
        table("Confirmed failures and look-backs by staff id",
              ["staff id", "confirmed failures", "look-backs", "open", "no failure", "failure found", "alert"],
              [(m.staff_id, m.confirmed_failures, m.look_backs, m.look_backs_open, m.look_backs_clear,
                m.look_backs_failure, "ALERT" if m.alert else "") for m in result.staff])


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


@app.command("archive")
def archive_cases(ctx: typer.Context, directory: Path | None = typer.Option(None, "--dir", help=DIR_HELP)) -> None:
    """Append every closed case not yet archived to the hash-chained archive.

    Each record holds the timeline JSON and the raw history. Running it again archives nothing twice."""
    from activities.archive_store import Archive, ArchiveBroken
    from dvds.audit.archiving import archive_closed_cases
    from dvds.cases.client import CaseError
    from dvds.cli.output import run
    from dvds.connection.client import connect

    target = Archive(archive_dir(ctx, directory))

    async def go() -> list[str]:
        try:
            return await archive_closed_cases(await connect(settings(ctx)), target)
        except ArchiveBroken as broken:
            raise CaseError(f"archive: {broken}") from None

    archived = run(go())
    seq, head = target.head()
    typer.echo(f"archived {len(archived)} case(s); the archive holds {seq} record(s); head {head}")


@app.command()
def verify(
    ctx: typer.Context,
    directory: Path | None = typer.Option(None, "--dir", help=DIR_HELP),
    head: str | None = typer.Option(None, "--head", help="The head hash you noted earlier: it must still be there"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Prove the archive untouched: the hash chain from the first record to HEAD."""
    from activities.archive_store import Archive
    from dvds.cli.output import console, emit_json, fail

    target = archive_dir(ctx, directory)
    if not target.is_dir():
        fail(f"dir: no archive at {target}", 2)
    result = Archive(target).verify(head)
    if json_out:
        emit_json(result)
    elif result.intact:
        typer.echo(f"archive intact: {result.records} record(s); head {result.head}")
    else:
        for problem in result.problems:
            console.print(f"[red]{problem}[/]", highlight=False)
        typer.echo(f"archive NOT intact: {len(result.problems)} problem(s)")
    if not result.intact:
        raise typer.Exit(1)


app.command("verify-signatures")(signatures.verify_signatures)
