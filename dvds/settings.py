"""All of the engine's configuration, in one object: built once by each entry point (the
`dvds` command, `python worker.py`, the tests) from the environment and passed down.
Nothing below an entry point reads the environment itself.

Prefixes: DVDS_ for the engine, DVDS_WEB_ for the staff inbox, DVDS_SMTP_ and DVDS_IOPC_
for the channels. Temporal's own connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TLS, API key) are read by `temporalio.envconfig` when connecting (dvds/connection/client.py),
so the same worker joins a cluster or Temporal Cloud unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.archiving import archive_task_queue

CACHED_CASE_BYTES = 270_000  # a cached case's share of a worker's memory: 974 MB at 3,582 cached (BENCHMARKS.md)


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def cache_for_memory(memory: int | None) -> int:
    """Cases a worker keeps cached by default: what an eighth of the machine's memory holds, in
    thousands, from 1,000 (the SDK's own default) to 5,000 (a review campaign the size of
    Wiltshire's, 3,778 cases, cached whole: replaying each case when its review comes cost the
    review a tenth of its throughput, BENCHMARKS.md)."""
    if not memory:
        return 1000
    return max(1000, min(5000, memory // 8 // CACHED_CASE_BYTES // 1000 * 1000))


class WebSettings(BaseSettings):
    """The staff inbox (prefix DVDS_WEB_)."""

    model_config = SettingsConfigDict(env_prefix="DVDS_WEB_")

    host: str = "127.0.0.1"  # loopback: put a reverse proxy with TLS in front to serve others
    port: int = 8000
    # A force's single sign-on: the reverse proxy authenticates and names the staff id in this
    # header (e.g. X-Remote-User). Honoured only when set; the proxy must strip it from clients.
    trusted_header: str | None = None
    session_secret: SecretStr | None = None  # unset: $DVDS_HOME/web-session-secret (created, 0600)
    session_hours: int = 8
    secure_cookies: bool = False  # true behind HTTPS: the session cookie is then sent over TLS only
    # The inbox's Ed25519 service key: it signs each task its sign-in authenticated. Unset:
    # $DVDS_HOME/web-service-key.pem (made, mode 0600, and listed in the staff directory's
    # web_keys on first start).
    service_key_file: Path | None = None
    # The sign-in throttle (dvds/staff/throttle.py): after 5 failures for one id or from one
    # address within 15 minutes, attempts wait this long, doubling with each further failure.
    sign_in_first_wait: float = Field(1.0, gt=0)
    sign_in_max_wait: float = Field(60.0, gt=0)


class SmtpSettings(BaseSettings):
    """Notices by e-mail (prefix DVDS_SMTP_); no host: notices are log lines."""

    model_config = SettingsConfigDict(env_prefix="DVDS_SMTP_", populate_by_name=True)

    host: str | None = None
    port: int = 25
    # `from` is a Python keyword: the field is `sender`, the variable DVDS_SMTP_FROM.
    sender: str = Field("dvds@localhost", validation_alias=AliasChoices("DVDS_SMTP_FROM"))
    to: str = "{name}@localhost"  # a team's address; {name} is the role, e.g. supervisor


class IopcSettings(BaseSettings):
    """The IOPC gateway (prefix DVDS_IOPC_); no endpoint: referrals go to the file outbox."""

    model_config = SettingsConfigDict(env_prefix="DVDS_IOPC_")

    endpoint: str | None = None
    token: SecretStr | None = None  # sent as a bearer token to the endpoint


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVDS_")

    home: Path = Path(".dvds")
    task_queue: str = "dvds-cases"
    policy_file: Path | None = None
    server_port: int = 7233
    ui_port: int = 8233
    keys: SecretStr | None = None  # the key ring's JSON; unset: the key file
    key_file: Path | None = None  # unset: home/keys.json
    staff_file: Path | None = None  # unset: home/staff.json
    # Where this person's own signing credential lives (<dir>/<staff id>.pem, `dvds staff enrol`).
    # Each member of staff keeps their own: the default is in their home directory.
    credentials_dir: Path = Path("~/.config/dvds/credentials")
    codec_port: int = 8234  # the codec server the Web UI decodes through
    codec_token: SecretStr | None = None  # unset: home/codec-token (created by dvds up)
    # Open cases a worker keeps in memory (Temporal's max_cached_workflows): its memory
    # follows this, not the number of open cases; a case outside it is replayed when it
    # next gets a task. About 0.27 MB a case (BENCHMARKS.md); for a review campaign, set it
    # above the number of cases under review so none is replayed when its review comes.
    # Unset, what fits the machine (cache_for_memory).
    max_cached_cases: int = Field(default_factory=lambda: cache_for_memory(physical_memory()))
    # The full sandbox: workflows/ re-imported, with every restriction, for each case the
    # worker runs. Off in production, where workflows/ is passed through (worker.py says
    # why); the test suite turns it on, so workflow code is checked under it.
    strict_sandbox: bool = False
    # The one worker that writes the archive (its activity has a task queue of its own, see
    # states/archiving.py). With several workers, set DVDS_ARCHIVER=false on all but one: the
    # host whose disk (DVDS_HOME/archive) holds the archive.
    archiver: bool = True
    # Prometheus metrics (README: Monitoring): unset, none are served. The worker, the web
    # app and `dvds up` each serve them on this port; loopback unless the host says otherwise.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    metrics_interval: float = Field(30.0, gt=0)  # seconds between the visibility counts behind the gauges
    web: WebSettings = Field(default_factory=WebSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    iopc: IopcSettings = Field(default_factory=IopcSettings)

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

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def archive_task_queue(self) -> str:
        return archive_task_queue(self.task_queue)

    @property
    def session_secret_path(self) -> Path:
        return self.home / "web-session-secret"

    @property
    def web_key_path(self) -> Path:
        return self.web.service_key_file or self.home / "web-service-key.pem"
