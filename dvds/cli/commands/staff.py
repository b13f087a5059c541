"""`dvds staff set-password ID`: a password for the web sign-in, stored as an argon2
hash in the staff file (JSON). A force with single sign-on needs none (see README)."""

from __future__ import annotations

import sys

import typer

from dvds.cli.context import settings

app = typer.Typer(rich_markup_mode=None, help="The staff directory: web sign-in passwords.", no_args_is_help=True)


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
