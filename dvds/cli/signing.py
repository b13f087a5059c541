"""The credential a command signs with: the `--actor`'s own, from the credentials directory,
its passphrase asked for without echo (or read from standard input)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from dvds.cli.context import settings

if TYPE_CHECKING:
    from dvds.staff.signers import MemberSigner

PASSPHRASE_STDIN_HELP = "Read the credential's passphrase from standard input (scripts)"


def read_passphrase(prompt: str, stdin: bool, confirm: bool = False) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def signer_for(ctx: typer.Context, staff_id: str, passphrase_stdin: bool = False) -> MemberSigner:
    """`staff_id`'s signer; a clean error saying how to enrol when they have no credential."""
    from dvds.cli.output import fail
    from dvds.staff.credentials import CredentialError
    from dvds.staff.signers import credential_needs_passphrase, member_signer

    directory = settings(ctx).credentials_dir
    try:
        passphrase = None
        if credential_needs_passphrase(directory, staff_id):
            passphrase = read_passphrase(f"Passphrase for {staff_id}'s credential", passphrase_stdin)
        return member_signer(directory, staff_id, passphrase)
    except CredentialError as err:
        fail(str(err))
