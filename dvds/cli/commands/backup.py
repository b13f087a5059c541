"""`dvds backup OUT` and `dvds restore FILE`: an embedded server's home in one file, and back."""

from __future__ import annotations

from pathlib import Path

import typer

from dvds.cli.context import settings


def backup(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The backup file to write (must not exist)"),
    with_keys: bool = typer.Option(False, "--with-keys", help="Include the key ring (then guard the file as the keys)"),
) -> None:
    """Back up the embedded server's database (online, while it runs), the archive, the staff
    directory and the IOPC outbox into one file; the key ring only with --with-keys."""
    from dvds.cli.output import fail
    from dvds.connection.keys import KeysError
    from dvds.operations.backup import back_up
    from dvds.operations.manifest import BackupError

    try:
        manifest = back_up(settings(ctx), out, with_keys)
    except (BackupError, KeysError) as err:
        fail(str(err))
    size = sum(f.size for f in manifest.files)
    typer.echo(f"backed up {len(manifest.files)} files ({size} bytes) into {out}")
    typer.echo("the key ring is in it: keep the file as safe as the keys" if with_keys else
               "the key ring is not in it: keep the keys safe elsewhere, or no case in it can be read")


def restore(ctx: typer.Context, file: Path = typer.Argument(..., help="A file `dvds backup` wrote")) -> None:
    """Restore a backup into an empty (or new) DVDS_HOME, checking every file against its
    checksum first; then start `dvds up` there."""
    from dvds.cli.output import fail
    from dvds.operations.manifest import KEYS, STAFF, BackupError
    from dvds.operations.restore import restore as restore_home

    config = settings(ctx)
    try:
        manifest = restore_home(config, file)
    except BackupError as err:
        fail(str(err))
    typer.echo(f"restored {len(manifest.files)} files from {file} (backed up {manifest.created_at.isoformat()}) "
               f"into {config.home}")
    if config.staff_path != config.home / STAFF:
        typer.echo(f"the staff directory is restored as {config.home / STAFF}; DVDS_STAFF_FILE points elsewhere")
    if not manifest.with_keys:
        typer.echo("no key ring in this backup: give the server's ring (DVDS_KEYS or DVDS_KEY_FILE)")
    elif config.key_path != config.home / KEYS:
        typer.echo(f"the key ring is restored as {config.home / KEYS}; DVDS_KEY_FILE points elsewhere")
