"""Configuration from the environment (prefix DVDS_). Temporal's own connection
settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key) are read separately by
`temporalio.envconfig`, so the same worker joins a cluster or Temporal Cloud unchanged."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVDS_")

    home: Path = Path(".dvds")
    task_queue: str = "dvds-cases"
    policy_file: Path | None = None
    iopc_endpoint: str | None = None  # unset: referrals go to the file outbox under home
    iopc_token: SecretStr | None = None  # sent as a bearer token to the IOPC endpoint
    smtp_host: str | None = None  # unset: notices are log lines
    smtp_port: int = 25
    smtp_from: str = "dvds@localhost"
    smtp_to: str = "{name}@localhost"  # a team's address; {name} is the role, e.g. supervisor
    server_port: int = 7233
    ui_port: int = 8233
    keys: SecretStr | None = None  # the key ring's JSON; unset: the key file
    key_file: Path | None = None  # unset: home/keys.json
    staff_file: Path | None = None  # unset: home/staff.json
    codec_port: int = 8234  # the codec server the Web UI decodes through
    codec_token: SecretStr | None = None  # unset: home/codec-token (created by dvds up)
    # Open cases a worker keeps in memory (Temporal's max_cached_workflows): its memory
    # follows this, not the number of open cases; a case outside it is replayed when it
    # next gets a task. About 0.15 MB a case (BENCHMARKS.md); for a review campaign, set it
    # above the number of cases under review so none is replayed when its review comes.
    max_cached_cases: int = 1000
    # The full sandbox: workflows/ re-imported, with every restriction, for each case the
    # worker runs. Off in production, where workflows/ is passed through (worker.py says
    # why); the test suite turns it on, so workflow code is checked under it.
    strict_sandbox: bool = False

    @property
    def sent_log(self) -> Path:
        return self.home / "sent-notices"

    @property
    def outbox(self) -> Path:
        return self.home / "iopc-outbox"

    @property
    def database(self) -> Path:
        return self.home / "temporal.sqlite"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.home / "keys.json"

    @property
    def staff_path(self) -> Path:
        return self.staff_file or self.home / "staff.json"

    @property
    def codec_token_path(self) -> Path:
        return self.home / "codec-token"
