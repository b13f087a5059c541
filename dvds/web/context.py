"""What every page handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dvds.cases.client import CaseClient
from dvds.settings import WebSettings
from dvds.web.claims import ClaimStore
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
