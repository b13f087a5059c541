"""`dvds staff set-password|enrol|revoke-key`: the staff directory's web sign-in passwords
(argon2 hashes) and each member's signing key (dvds/staff/credentials.py). A force with single
sign-on needs no passwords (see README); everyone who completes tasks from the command line
needs a key."""

from __future__ import annotations

import sys
from datetime import datetime

import typer

from dvds.cli.context import settings
from dvds.cli.signing import PASSPHRASE_STDIN_HELP, read_passphrase

app = typer.Typer(rich_markup_mode=None, help="The staff directory: web sign-in passwords and signing keys.",
                  no_args_is_help=True)


@app.command("set-password")
def set_password(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help="The staff id, as in the staff file"),
    stdin: bool = typer.Option(False, "--stdin", help="Read the password from standard input (scripts)"),
) -> None:
    """Set (or replace) a staff member's web sign-in password."""
    from dvds.cli.output import fail
    from dvds.staff.directory import StaffFileError, read_staff
    from dvds.staff.editing import edit_staff_json, member_entry
    from dvds.staff.passwords import WeakPassword, hash_password

    path = settings(ctx).staff_path
    if path.suffix == ".toml":
        fail(f"staff: {path} is TOML; put password_hash values in it by hand, or use a JSON staff file", 2)
    try:
        if read_staff(path).find(staff_id) is None:
            fail(f"staff_id: {staff_id} is not in the staff directory {path}", 2)
    except StaffFileError as err:
        fail(str(err))
    password = sys.stdin.readline().rstrip("\n") if stdin else typer.prompt(
        f"New password for {staff_id}", hide_input=True, confirmation_prompt=True)
    try:
        hashed = hash_password(password)
        edit_staff_json(path, lambda data: member_entry(data, staff_id, path).update(password_hash=hashed))
    except WeakPassword as err:
        fail(str(err), 2)
    except StaffFileError as err:
        fail(str(err), 2)
    typer.echo(f"Password set for {staff_id} in {path}.")


@app.command()
def enrol(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help="Your staff id, as in the staff file"),
    passphrase: bool = typer.Option(False, "--passphrase", help="Protect the key with a passphrase (asked twice)"),
    passphrase_stdin: bool = typer.Option(False, "--passphrase-stdin", help=PASSPHRASE_STDIN_HELP),
    rotate: bool = typer.Option(False, "--rotate", help="Replace your credential with a new key; the old "
                                "public key stays in the directory (revoke it with revoke-key)"),
) -> None:
    """Make your signing key: the private key to your own file (mode 0600, in DVDS_CREDENTIALS_DIR),
    the public key into the staff directory. `dvds task complete` and `dvds case start` sign with it."""
    from dvds.cli.output import fail
    from dvds.staff.credentials import CredentialError, credential_path
    from dvds.staff.credentials import enrol as enrol_member
    from dvds.staff.directory import StaffFileError

    config = settings(ctx)
    secret = None
    if passphrase or passphrase_stdin:
        secret = read_passphrase(f"Passphrase for {staff_id}'s key", passphrase_stdin, confirm=True)
    try:
        path = credential_path(config.credentials_dir, staff_id)
        key = enrol_member(staff_id, config.staff_path, path, secret, rotate=rotate)
    except (CredentialError, StaffFileError) as err:
        fail(str(err), 2)
    typer.echo(f"Enrolled {staff_id}: key {key.id}; private key in {path} (mode 0600), "
               f"public key in {config.staff_path}.")


@app.command("revoke-key")
def revoke_key(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help="The staff id whose key it is"),
    key_id: str = typer.Argument(..., help="The key's id (ed25519-...), as `dvds staff enrol` printed it"),
    at: datetime | None = typer.Option(None, formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"],
                                       help="When the key stopped counting (default now; UTC if no offset)"),
) -> None:
    """Revoke one of a member's keys: what it signs from `at` is refused; what it signed before still verifies."""
    from datetime import UTC

    from dvds.cli.output import fail
    from dvds.staff.credentials import CredentialError, revoke
    from dvds.staff.directory import StaffFileError

    config = settings(ctx)
    when = (at if at.tzinfo else at.replace(tzinfo=UTC)) if at else datetime.now(UTC)
    try:
        key = revoke(staff_id, key_id, when, config.staff_path)
    except (CredentialError, StaffFileError) as err:
        fail(str(err), 2)
    assert key.revoked_at is not None
    typer.echo(f"Revoked {key.id} of {staff_id} from {key.revoked_at.isoformat()} in {config.staff_path}.")
