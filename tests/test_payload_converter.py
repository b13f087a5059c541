"""The case payload converter: what it writes reads back as the same model, on client and
worker alike, and every converter in the process shares one cache of type adapters (the SDK
makes a converter per workflow; each built its adapters afresh before)."""

from __future__ import annotations

from typing import Any

from dvds.connection import codec
from dvds.connection.codec import CasePayloadConverter
from dvds.connection.worker_codec import WorkerPayloadConverter
from states.record import CaseInput
from tests.helpers.cases import application, new_ref


def test_a_case_start_reads_back_the_same_through_any_converter() -> None:
    start = CaseInput(ref=new_ref(), application=application())
    payloads = CasePayloadConverter().to_payloads([start])
    for converter in (CasePayloadConverter(), WorkerPayloadConverter()):
        [read] = converter.from_payloads(payloads, [CaseInput])
        assert read == start


def test_converters_share_their_type_adapters() -> None:
    """A second converter, as the SDK makes for the next workflow, builds no adapter of its own."""
    payloads = CasePayloadConverter().to_payloads([{"actor": {"id": "RV500"}}])
    WorkerPayloadConverter().from_payloads(payloads, [Any])
    before = codec._TYPE_ADAPTERS.cache_info()  # noqa: SLF001
    WorkerPayloadConverter().from_payloads(payloads, [Any])
    after = codec._TYPE_ADAPTERS.cache_info()  # noqa: SLF001
    assert after.misses == before.misses and after.hits == before.hits + 1
