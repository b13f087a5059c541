"""The subjects' blind index: a keyed hash (HMAC-SHA256 with the key ring's index key)
of each normalised name and date-of-birth pair (states/subject_match.py). Stored as the
DvdsSubjectKeys search attribute, it lets a new application find earlier cases about
the same subject while the server holds no name or date: without the key, a value
cannot be tested against a guess.

Computed by the client that starts a case, which holds the key ring anyway (it
encrypts the application); the workflow only carries the result.
"""

from __future__ import annotations

import hashlib
import hmac

from temporalio.client import Client

from dvds.connection.codec import EncryptionCodec
from dvds.connection.keys import KeyRing
from states.models import Subject
from states.subject_match import subject_pairs

# 128 bits of the HMAC: collisions are negligible and the list fits a search attribute.
_HEX_CHARS = 32


def subject_keys(subject: Subject, keys: KeyRing) -> list[str]:
    secret = keys.index_secret
    return [
        hmac.new(secret, pair.encode("utf-8"), hashlib.sha256).hexdigest()[:_HEX_CHARS]
        for pair in subject_pairs(subject)
    ]


def client_keys(client: Client) -> KeyRing | None:
    """The key ring of a client connected with dvds.connection.client (None for any other client)."""
    codec = client.data_converter.payload_codec
    return codec.keys if isinstance(codec, EncryptionCodec) else None


def matching_query(keys: list[str], except_ref: str) -> str:
    """A visibility query for other cases sharing any key. Keys are hex digests, refs are
    checked patterns, so nothing here needs escaping."""
    listed = ", ".join(f"'{k}'" for k in keys if all(c in "0123456789abcdef" for c in k))
    return f"DvdsSubjectKeys IN ({listed}) AND WorkflowId != '{except_ref}'"
