"""What every page handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dvds.cases.client import CaseClient
from dvds.settings import WebSettings
from dvds.staff.credentials import Credential
from dvds.web.claims import ClaimStore
from dvds.web.sign_in_guard import SignInGuard
from states.staff import StaffDirectory


class StaffSource(Protocol):
    @property
    def directory(self) -> StaffDirectory: ...


@dataclass
class WebContext:
    cases: CaseClient
    staff: StaffSource  # dvds.staff.directory.StaffFile: re-read when the file changes
    claims: ClaimStore
    web: WebSettings
    archive_dir: Path
    service_key: Credential  # signs what the sign-in authenticated (dvds/staff/signers.py WebSigner)
    guard: SignInGuard  # the sign-in throttle, and its security log lines
