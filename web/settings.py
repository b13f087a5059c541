"""The web app's settings (prefix DVDS_WEB_), and its session secret."""

from __future__ import annotations

import os
import secrets

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dvds.settings import Settings


class WebServerError(Exception):
    """The web app cannot start: its port is taken, or a setting is wrong. Says which."""


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVDS_WEB_")

    host: str = "127.0.0.1"  # loopback: put a reverse proxy with TLS in front to serve others
    port: int = 8000
    # A force's single sign-on: the reverse proxy authenticates and names the staff id in this
    # header (e.g. X-Remote-User). Honoured only when set; the proxy must strip it from clients.
    trusted_header: str | None = None
    session_secret: SecretStr | None = None  # unset: $DVDS_HOME/web-session-secret (created, 0600)
    session_hours: int = 8
    secure_cookies: bool = False  # true behind HTTPS: the session cookie is then sent over TLS only


def session_secret(web: WebSettings, settings: Settings) -> str:
    if web.session_secret is not None:
        secret = web.session_secret.get_secret_value()
        if len(secret) < 32:
            raise WebServerError("web: DVDS_WEB_SESSION_SECRET must be at least 32 characters")
        return secret
    path = settings.home / "web-session-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()
