"""What every page handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dvds.cases.claims import ClaimBoard
from dvds.cases.client import CaseClient
from dvds.monitoring.metrics import DomainMetrics
from dvds.settings import WebSettings
from dvds.staff.credentials import Credential
from dvds.web.sign_in_guard import SignInGuard
from states.staff import StaffDirectory


class StaffSource(Protocol):
    @property
    def directory(self) -> StaffDirectory: ...


@dataclass
class WebContext:
    cases: CaseClient
    staff: StaffSource  # dvds.staff.directory.StaffFile: re-read when the file changes
    claims: ClaimBoard  # on the server: every web host sees the same claims
    web: WebSettings
    archive_dir: Path
    service_key: Credential  # signs what the sign-in authenticated (dvds/staff/signers.py WebSigner)
    guard: SignInGuard  # the sign-in throttle, and its security log lines
    metrics: DomainMetrics = field(default_factory=DomainMetrics)  # refused sign-ins are counted here
