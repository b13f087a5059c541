"""Every payload that crosses Temporal, encrypted: AES-256-GCM, one fresh nonce per
payload, the key id in the payload's metadata so older keys still decrypt after a
rotation. Workflow inputs, updates, results, activity inputs and outputs, query
results and (with the failure converter's encoded attributes) failure messages.

Search attributes and workflow ids are not payloads the codec sees: they carry no
personal data (workflows/search.py, states/models.py CaseRef).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import (
    PydanticJSONPlainPayloadConverter,
    PydanticPayloadConverter,
    pydantic_data_converter,
)
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from dvds.connection.keys import KeyRing, KeysError

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE = 12


class PayloadKeyError(KeysError):
    """A payload this key ring cannot decrypt. Names the key id, never the data."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self._ciphers = {k.id: AESGCM(k.secret) for k in keys.encryption_keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key = self.keys.current
        cipher = self._ciphers[key.id]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(_NONCE)
            # The key id is authenticated too, so a payload cannot be relabelled.
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), key.id.encode())
            encoded.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key.id.encode()}, data=nonce + sealed))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"keys: this data is encrypted with key {key_id!r}, which is not in the key ring "
                "(DVDS_KEY_FILE or DVDS_KEYS); ask for the key ring that has it"
            )
        try:
            plain = cipher.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], key_id.encode())
        except InvalidTag:
            raise PayloadKeyError(
                f"keys: data under key {key_id!r} could not be decrypted: the key is wrong or the data was altered"
            ) from None
        return Payload.FromString(plain)


# One cache of pydantic type adapters for the whole process. The SDK makes a payload
# converter for each workflow it runs (and for each activation's codec pass), and the
# pydantic converter's adapter cache lives in that instance: every case built its adapters
# (the start's CaseInput, each update's arguments) afresh, about 0.2 ms an update. A
# TypeAdapter is immutable once built, so workflows on any thread may share one.
_TYPE_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(maxsize=1024)(TypeAdapter)


class CasePayloadConverter(PydanticPayloadConverter):
    """The pydantic payload converter, with the process's shared type adapters."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _TYPE_ADAPTERS  # noqa: SLF001 - the SDK's per-instance cache


def case_data_converter(keys: KeyRing) -> DataConverter:
    """The pydantic converter, with every payload and failure message encrypted."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=CasePayloadConverter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
