"""`dvds web`: the staff inbox on its own, against a server that is already running
(`dvds up` also starts it, beside the worker). One of the two commands that start a face."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from dvds.cli.context import settings

if TYPE_CHECKING:
    from dvds.settings import Settings
    from dvds.staff.directory import StaffFile


def web(ctx: typer.Context) -> None:
    """Serve the staff inbox (http://127.0.0.1:8000, DVDS_WEB_PORT) until Ctrl-C."""
    import asyncio

    from dvds.cli.output import fail
    from dvds.connection.keys import KeysError
    from dvds.monitoring.serving import MetricsError
    from dvds.staff.directory import StaffFile, StaffFileError
    from dvds.web.serve import WebServerError

    config = settings(ctx)
    try:
        staff = StaffFile(config.staff_path)
        asyncio.run(_serve(config, staff))
    except (KeysError, StaffFileError, WebServerError, MetricsError) as err:
        fail(str(err))


async def _serve(config: Settings, staff: StaffFile) -> None:
    import asyncio
    import signal

    from dvds.connection.client import connect
    from dvds.monitoring.serving import exposing_metrics, telemetry
    from dvds.web.serve import serving_inbox

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    found = telemetry(config)
    client = await connect(config, runtime=found.runtime)
    async with (
        serving_inbox(client, config, staff, metrics=found.metrics) as address,
        exposing_metrics(config, found, client) as metrics_address,
    ):
        typer.echo(f"Staff inbox: {address} (Ctrl-C stops it)")
        if metrics_address:
            typer.echo(f"Metrics: {metrics_address}")
        try:
            await stop.wait()
        finally:
            typer.echo("Stopped.")
