"""One way to reach Temporal: envconfig for the address, namespace, TLS and API key;
the pydantic data converter with every payload encrypted (dvds/connection/codec.py) always."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from dvds.connection.codec import case_data_converter
from dvds.connection.keys import KeyRing, load_keys
from dvds.settings import Settings


async def connect(
    settings: Settings, address: str | None = None, keys: KeyRing | None = None, runtime: Runtime | None = None
) -> Client:
    """Keys default to the settings' ring (DVDS_KEYS or the key file); a missing one raises KeysError.
    `runtime`: the SDK runtime to report through (dvds/monitoring: its metrics); default the SDK's own."""
    converter = case_data_converter(keys or load_keys(settings))
    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", "localhost:7233")
    if address:
        config["target_host"] = address
    return await Client.connect(**config, data_converter=converter, runtime=runtime)
