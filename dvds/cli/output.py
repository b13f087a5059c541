"""Printing for people (rich tables) and for programs (--json), and clean failures."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from temporalio.service import RPCError

from dvds.errors import ReadableError
from states.models import validation_summary

console = Console()
errors = Console(stderr=True)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def validation_message(err: ValidationError) -> str:
    return validation_summary(err)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; turn what a person should read into a clean error."""
    try:
        return asyncio.run(coroutine)
    except ReadableError as err:
        fail(str(err))
    except ValidationError as err:
        fail(f"invalid input: {validation_message(err)}", 2)
    except (ConnectionError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            fail(f"file: {err.filename} does not exist", 2)
        fail(f"cannot reach Temporal ({type(err).__name__}); is `dvds up` running?")
    except RPCError as err:  # one not turned into a CaseError where it was called: still no trace
        from dvds.cases.client import server_refusal

        fail(server_refusal(err))
    except RuntimeError as err:
        if "connect" in str(err).lower():
            fail("cannot reach Temporal; is `dvds up` running? (TEMPORAL_ADDRESS sets where)")
        raise


async def counted(count: Callable[[], Awaitable[int]] | None, page: Any, token: str | None, what: str) -> None:
    """After a list's page has been printed: how many the whole list holds, as "In all: N
    what". The count is asked only now: it costs the server every case it counts, and the
    embedded server's visibility answers one query at a time, so asked beside the page it
    held the page back. Not asked when the page is the whole list."""
    if count is None or (not page.next_token and not token):
        return
    sys.stdout.flush()
    total = await count()
    console.print(f"In all: {total} {what}", highlight=False)


def read_json_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"file: {path} does not exist", 2)
    except (UnicodeDecodeError, IsADirectoryError):
        fail(f"file: {path} is not a UTF-8 text file", 2)
    if len(text) > 1_000_000:
        fail(f"file: {path} is larger than 1 MB", 2)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"file: {path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})", 2)
    except RecursionError:
        fail(f"file: {path} is nested too deeply to be a submission", 2)
    except ValueError:  # e.g. an integer past Python's 4300-digit limit
        fail(f"file: {path} holds a number too large to read", 2)


def validated(data: Any, model: type[M]) -> M:
    """`data` as `model`, or a clean error naming each field and rule (never a value)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        fail(f"invalid input: {validation_message(err)}", 2)


def emit_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    if isinstance(value, BaseModel):
        typer.echo(value.model_dump_json(indent=2))
    elif isinstance(value, dict):
        typer.echo(json.dumps(value, indent=2, default=str))
    else:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in value], indent=2))


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


PLAIN_ROWS = 200  # past this many rows a table is printed as plain aligned text: rich lays out every cell


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
          styles: Callable[[Sequence[Any]], str | None] | None = None) -> None:
    if len(rows) > PLAIN_ROWS:
        _plain_table(title, columns, rows)
        return
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*[str(cell) for cell in row], style=styles(row) if styles else None)
    console.print(grid)


def _plain_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in columns], *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [title] + ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                       for row in cells]
    sys.stdout.write("\n".join(lines) + "\n")
