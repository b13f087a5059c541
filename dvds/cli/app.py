"""`dvds`: the command line for operators, staff and auditors.

Start-up stays light: each subcommand module imports only typer and the domain's small
enums at the top, and loads what it needs (the Temporal client, the models, rich) inside
the command that runs, so `dvds --help` never loads the stack.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

# Pydantic looks for plugins among every installed package's entry points when it builds its
# first model, a scan that costs each command tens of milliseconds; DVDS uses none. Set the
# variable to something else to have pydantic load them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from dvds.cli.commands import audit, backup, case, imports, keys, referral, schema, staff, states, task, up, web

# Plain click help (rich_markup_mode=None): rendering help through rich loads rich's
# markdown and syntax modules, most of what `dvds --help` used to spend.
app = typer.Typer(rich_markup_mode=None, help="The DVDS (Clare's Law) case engine.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(case.app, name="case")
app.add_typer(task.app, name="task")
app.add_typer(states.app, name="states")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(staff.app, name="staff")
app.add_typer(referral.app, name="referral")
app.command("schema")(schema.schema)
app.command("up")(up.up)
app.command("web")(web.web)
app.command("import")(imports.import_)
app.command("demo-data")(imports.demo_data)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)


@app.callback()
def main(
    ctx: typer.Context,
    log_format: str = typer.Option("json", help="json (default) or console", envvar="DVDS_LOG_FORMAT"),
) -> None:
    """Say how to log; the command that runs reads the settings (and configures logging)
    when it first needs them, so `dvds case --help` loads neither."""
    from dvds.cli.context import Startup

    ctx.obj = Startup(log_format)


def entry() -> None:
    """The `dvds` console script. It leaves with os._exit once output is flushed:
    the Temporal client's Rust threads can abort CPython's finalisation of a
    short-lived process (temporalio/sdk-python issue #300), turning a finished
    command into a crash."""
    code = 0
    try:
        app(prog_name="dvds")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
