"""One way to reach Temporal: envconfig for the address, namespace, TLS and API key;
the pydantic data converter always."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig


async def connect(address: str | None = None) -> Client:
    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", "localhost:7233")
    if address:
        config["target_host"] = address
    return await Client.connect(**config, data_converter=pydantic_data_converter)
