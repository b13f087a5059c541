"""`dvds referral organisational|list`: referrals to the IOPC that cover several cases."""

from __future__ import annotations

import typer

from dvds.cli.context import settings

app = typer.Typer(rich_markup_mode=None, help="Organisational referrals to the IOPC.", no_args_is_help=True)


@app.command()
def organisational(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="The referral's own reference"),
    cases: list[str] = typer.Argument(..., help="The cases it covers (two or more)"),
    actor: str = typer.Option(..., help="Staff id of the Professional Standards member referring"),
    concern: str = typer.Option(..., help="What the referral is about (kept with it, not sent in the message)"),
) -> None:
    """Refer several cases to the IOPC in one referral (category organisational) and print its reference."""
    from dvds.cases.client import open_cases
    from dvds.cases.referrals import refer_organisational
    from dvds.cli.output import run

    raw = {"ref": ref, "referred_by": {"id": actor, "role": "professional_standards"}, "cases": cases,
           "concern": concern}

    async def go() -> str:
        client = await open_cases(settings(ctx))
        filed = await refer_organisational(client.client, settings(ctx).task_queue, raw)
        return f"{filed.ref}: {filed.iopc_reference} ({filed.category}, {len(filed.cases)} cases)"

    typer.echo(run(go()))


@app.command("list")
def list_referrals(
    ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="As JSON")
) -> None:
    """Every organisational referral filed, with its cases."""
    from dvds.cases.client import open_cases
    from dvds.cases.referrals import organisational_referrals
    from dvds.cli.output import emit_json, run, table, when
    from states.organisational_referral import OrganisationalReferral

    async def go() -> list[OrganisationalReferral]:
        return await organisational_referrals((await open_cases(settings(ctx))).client)

    found = run(go())
    if json_out:
        emit_json(found)
        return
    table(f"Organisational referrals ({len(found)})", ["ref", "IOPC reference", "referred", "by", "cases"],
          [(r.ref, r.iopc_reference, when(r.referred_at), r.referred_by, ", ".join(r.cases)) for r in found])
