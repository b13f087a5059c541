"""`dvds schema TASK`: the JSON Schema of a submission, from its pydantic model."""

from __future__ import annotations

import json

import typer

from states.roles import Task

CHOICES = ["application", *[str(t) for t in Task]]


def schema(
    name: str = typer.Argument(..., help=f"One of: {', '.join(CHOICES)}"),
) -> None:
    """Print the JSON Schema of a task's submission (or of an application)."""
    from dvds.cli.output import fail
    from states.models import Application
    from states.tasks import TASK_MODEL

    if name not in CHOICES:
        fail(f"task: {name!r} is not one of {', '.join(CHOICES)}", 2)
    model = Application if name == "application" else TASK_MODEL[Task(name)]
    typer.echo(json.dumps(model.model_json_schema(), indent=2))
