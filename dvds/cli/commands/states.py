"""`dvds states diagram`: the case state machine as Mermaid."""

from __future__ import annotations

import typer

app = typer.Typer(rich_markup_mode=None, help="The case state machine.", no_args_is_help=True)


@app.command()
def diagram() -> None:
    """Print the state machine as a Mermaid diagram (transitions' own mermaid engine)."""
    from states.machine import diagram as machine_diagram

    typer.echo(machine_diagram())
