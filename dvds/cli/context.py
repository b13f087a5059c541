"""The settings a command runs with: read once, by the `dvds` callback, and handed to
each command through typer's context."""

from __future__ import annotations

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


def settings(ctx: typer.Context) -> Settings:
    found = ctx.find_root().obj
    assert found is not None, "the dvds callback reads the settings before any command runs"
    return found  # type: ignore[no-any-return]
