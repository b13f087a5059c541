"""`dvds states diagram`: the case state machine as Mermaid."""

from __future__ import annotations

import typer

from states.machine import diagram as machine_diagram

app = typer.Typer(help="The case state machine.", no_args_is_help=True)


@app.command()
def diagram() -> None:
    """Print the state machine as a Mermaid diagram (transitions' own mermaid engine)."""
    typer.echo(machine_diagram())
