"""Configuration from the environment (prefix DVDS_). Temporal's own connection
settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key) are read separately by
`temporalio.envconfig`, so the same worker joins a cluster or Temporal Cloud unchanged."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVDS_")

    home: Path = Path(".dvds")
    task_queue: str = "dvds-cases"
    policy_file: Path | None = None
    iopc_endpoint: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "dvds@localhost"
    server_port: int = 7233
    ui_port: int = 8233

    @property
    def outbox(self) -> Path:
        return self.home / "iopc-outbox"

    @property
    def database(self) -> Path:
        return self.home / "temporal.sqlite"
