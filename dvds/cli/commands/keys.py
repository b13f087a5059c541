"""`dvds keys rotate`: add a new newest key to the key file."""

from __future__ import annotations

import typer

from dvds.cli.context import settings

app = typer.Typer(rich_markup_mode=None, help="The encryption key ring.", no_args_is_help=True)


@app.command()
def rotate(ctx: typer.Context) -> None:
    """Add a new key to the key file: it encrypts from now on; older keys still decrypt.
    Restart the worker and hand the new file to every client."""
    from dvds.cli.output import fail
    from dvds.connection.keys import KeysError, rotate_key_file

    try:
        path, ring = rotate_key_file(settings(ctx))
    except KeysError as err:
        fail(str(err))
    typer.echo(f"{path}: now encrypting with {ring.current.id} ({len(ring.encryption_keys)} keys)")
