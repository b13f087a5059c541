"""The settings a command runs with: read from the environment once, when the command
first asks for them, and handed to it through typer's context (the `dvds` callback puts
a `Startup` there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from dvds.settings import Settings


def load_settings() -> Settings:
    """The settings from the environment; a bad value is a clean error naming the setting."""
    from pydantic import ValidationError

    from dvds.settings import Settings

    try:
        return Settings()
    except ValidationError as err:
        from dvds.cli.output import fail
        from states.models import validation_summary

        fail(f"settings: {validation_summary(err)}", 2)


@dataclass
class Startup:
    """What the `dvds` callback knows before a command runs: how to log. The settings are
    read, and logging configured, the first time a command asks for them."""

    log_format: str = "json"
    loaded: Settings | None = field(default=None, init=False)

    def settings(self) -> Settings:
        if self.loaded is None:
            from dvds import logs

            logs.configure(self.log_format)
            self.loaded = load_settings()
        return self.loaded


def settings(ctx: typer.Context) -> Settings:
    """The settings for this command. A test may invoke a sub-command with `obj=Settings(...)`."""
    from dvds.settings import Settings

    found = ctx.find_root().obj
    if isinstance(found, Settings):
        return found
    assert isinstance(found, Startup), "the dvds callback puts a Startup in the context"
    return found.settings()
