"""A case reference as the force writes it, and the workflow id derived from it.

Forces write references their own way (`WP-DVDS-2020-00000`, `WP/DVDS/2020/00001`,
`CL-21-0042`, `0001234`), so the reference is kept exactly as written: shown, searched
and exported as is. The workflow id is the reference with each `/` written as `~`, a
character no reference can hold, so the id is reversible and safe in a URL path (the
Temporal Web UI puts the id in one). Every reference without `/`, including those of
cases already running, is its own workflow id.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

CASE_REF_RULE = "must be 3 to 40 letters, digits or - / _ . with at least one digit and no spaces"
_SHAPE = re.compile(r"[A-Za-z0-9/_.-]{3,40}")
_SLASH, _IN_ID = "/", "~"  # "~" is URL-safe (RFC 3986 unreserved) and never in a reference


def is_case_ref(text: str) -> bool:
    return _SHAPE.fullmatch(text) is not None and any(c.isdigit() for c in text)


def _checked(text: str) -> str:
    if not is_case_ref(text):
        raise ValueError(CASE_REF_RULE)
    return text


# A case reference never carries personal data: it becomes the workflow id and a search key.
CaseRef = Annotated[str, AfterValidator(_checked)]


def workflow_id(ref: str) -> str:
    """The workflow id of the case with this reference."""
    return _checked(ref).replace(_SLASH, _IN_ID)


def case_ref(workflow_id: str) -> str:
    """The reference of the case with this workflow id; ValueError for an id no reference gives."""
    if _SLASH in workflow_id:
        raise ValueError("workflow id: not the id of a case reference (it holds /)")
    ref = workflow_id.replace(_IN_ID, _SLASH)
    if not is_case_ref(ref):
        raise ValueError("workflow id: not the id of a case reference")
    return ref
