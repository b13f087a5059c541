"""`dvds audit verify-signatures REF|--all`: every task's proof checked again, from the history."""

from __future__ import annotations

from pathlib import Path

import typer

from dvds.cli.context import settings


def verify_signatures(
    ctx: typer.Context,
    ref: str | None = typer.Argument(None, help="Case reference (or --all)"),
    every: bool = typer.Option(False, "--all", help="Every closed case on the server and in the archive"),
    directory: Path | None = typer.Option(None, "--dir", help="Archive directory (default: $DVDS_HOME/archive)"),
    json_out: bool = typer.Option(False, "--json", help="Print every check as JSON"),
) -> None:
    """Check every task's signature against the staff directory (keys as they were when it was signed)
    and print what fails. Exit 1 if anything does."""
    from dvds.audit.signatures import SignatureReport, verify_signatures
    from dvds.cli.output import console, emit_json, fail, run, table, when

    if (ref is None) == (not every):
        fail("give a case reference or --all (not both)", 2)
    report: SignatureReport = run(verify_signatures(settings(ctx), None if every else ref, directory))
    if json_out:
        emit_json(report)
    else:
        failures = report.failures
        table(f"Signatures that do not verify ({len(failures)})", ["ref", "run", "event", "when", "task", "by", "rule"],
              [(c.ref, c.run_id[:8], c.event_id, when(c.at), c.task, f"{c.actor} ({c.role})" if c.actor else "-",
                c.rule or "") for c in failures],
              styles=lambda row: "red")
        cases = len({c.ref for c in report.checks})
        console.print(f"{len(report.checks)} signed step(s) on {cases} case(s) checked "
                      f"({'; '.join(report.sources)}): {len(failures)} do not verify")
    if report.failures:
        raise typer.Exit(1)
