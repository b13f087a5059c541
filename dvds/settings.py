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

    @property
    def sent_log(self) -> Path:
        return self.home / "sent-notices"

    @property
    def outbox(self) -> Path:
        return self.home / "iopc-outbox"

    @property
    def database(self) -> Path:
        return self.home / "temporal.sqlite"
