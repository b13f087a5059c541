"""`dvds keys rotate`: add a new newest key to the key file."""

from __future__ import annotations

import typer

from dvds.keys import KeysError, load_keys, write_keys
from dvds.output import fail
from dvds.settings import Settings

app = typer.Typer(help="The encryption key ring.", no_args_is_help=True)


@app.command()
def rotate() -> None:
    """Add a new key to the key file: it encrypts from now on; older keys still decrypt.
    Restart the worker and hand the new file to every client."""
    settings = Settings()
    if settings.keys is not None:
        fail("keys: keys come from DVDS_KEYS; rotate where that value is kept", 2)
    try:
        ring = load_keys(settings).rotated()
        write_keys(settings.key_path, ring, new=False)
    except KeysError as err:
        fail(str(err))
    typer.echo(f"{settings.key_path}: now encrypting with {ring.current.id} ({len(ring.encryption_keys)} keys)")
