"""`dvds staff set-password ID`: a password for the web sign-in, stored as an argon2
hash in the staff file (JSON). A force with single sign-on needs none (see README)."""

from __future__ import annotations

import json
import os
import sys
import tempfile

import typer

from dvds.output import fail
from dvds.settings import Settings
from dvds.staff_file import StaffFileError, read_staff
from web.passwords import WeakPassword, hash_password

app = typer.Typer(help="The staff directory: web sign-in passwords.", no_args_is_help=True)


@app.command("set-password")
def set_password(
    staff_id: str = typer.Argument(..., help="The staff id, as in the staff file"),
    stdin: bool = typer.Option(False, "--stdin", help="Read the password from standard input (scripts)"),
) -> None:
    """Set (or replace) a staff member's web sign-in password."""
    settings = Settings()
    path = settings.staff_path
    if path.suffix == ".toml":
        fail(f"staff: {path} is TOML; put password_hash values in it by hand, or use a JSON staff file", 2)
    try:
        directory = read_staff(path)
    except StaffFileError as err:
        fail(str(err))
    if directory.find(staff_id) is None:
        fail(f"staff_id: {staff_id} is not in the staff directory {path}", 2)
    password = sys.stdin.readline().rstrip("\n") if stdin else typer.prompt(
        f"New password for {staff_id}", hide_input=True, confirmation_prompt=True)
    try:
        hashed = hash_password(password)
    except WeakPassword as err:
        fail(str(err), 2)
    # Edit the file as it is (keeping its other fields and order), then swap it in whole.
    data = json.loads(path.read_text(encoding="utf-8"))
    for member in data["staff"]:
        if member.get("id") == staff_id:
            member["password_hash"] = hashed
    mode = path.stat().st_mode & 0o777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".staff-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.chmod(temporary, mode)
    os.replace(temporary, path)
    typer.echo(f"Password set for {staff_id} in {path}.")
