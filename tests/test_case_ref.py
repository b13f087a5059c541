"""Case references as forces write them, and the workflow id each one gives."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from states.case_ref import CASE_REF_RULE, case_ref, workflow_id
from states.models import CaseRef
from states.record import CaseInput
from tests.helpers.cases import application

FORCE_REFS = ["WP-DVDS-2020-00000", "WP/DVDS/2020/00001", "CL-21-0042", "0001234", "DVDS-2016-000123"]
REF = TypeAdapter(CaseRef)
refs = st.from_regex(r"[A-Za-z0-9/_.-]{3,40}", fullmatch=True).filter(lambda r: any(c.isdigit() for c in r))


class TestReference:
    """A reference is kept exactly as the force wrote it, and refused when it cannot be one."""

    @pytest.mark.parametrize("ref", FORCE_REFS)
    def test_force_references_accepted_as_written(self, ref: str) -> None:
        """Each force style starts a case whose reference is exactly what the force wrote."""
        assert CaseInput(ref=ref, application=application()).ref == ref

    @pytest.mark.parametrize(
        "ref", ["WP DVDS 2020 1", "case@2020-1", "x" * 39 + "12", "DVDS-ABC", "1a", "", " DVDS-1", "DVDS-1\n", "ÄB-12"]
    )
    def test_what_cannot_be_a_reference_is_refused(self, ref: str) -> None:
        """Spaces, @, more than 40 characters, no digit or too short: refused with the rule, not the value."""
        with pytest.raises(ValidationError) as refused:
            CaseInput(ref=ref, application=application())
        message = str(refused.value)
        assert CASE_REF_RULE in message
        if len(ref.strip()) > 3:
            assert ref.strip() not in message


class TestWorkflowId:
    """The workflow id of a case comes from its reference and gives it back."""

    @pytest.mark.parametrize("ref", [r for r in FORCE_REFS if "/" not in r])
    def test_reference_without_slash_is_its_own_id(self, ref: str) -> None:
        """Cases already running (id == reference) keep their id."""
        assert workflow_id(ref) == ref

    def test_slashes_become_url_safe(self) -> None:
        """A reference with / gets an id with no /, usable as one segment of a Web UI URL."""
        assert workflow_id("WP/DVDS/2020/00001") == "WP~DVDS~2020~00001"
        assert case_ref("WP~DVDS~2020~00001") == "WP/DVDS/2020/00001"

    @given(ref=refs)
    def test_round_trip(self, ref: str) -> None:
        """Any reference gives an id that is URL-path safe and gives the reference back; the id of
        a reference without / is the reference itself."""
        assert REF.validate_python(ref) == ref
        made = workflow_id(ref)
        assert case_ref(made) == ref
        assert quote(made, safe="") == made
        assert (made == ref) == ("/" not in ref)

    @given(first=refs, second=refs)
    def test_different_references_have_different_ids(self, first: str, second: str) -> None:
        """Two references never share a workflow id."""
        assert (workflow_id(first) == workflow_id(second)) == (first == second)

    @pytest.mark.parametrize("made", ["WP/DVDS/1", "a b~1", "~~", "x" * 41 + "1"])
    def test_id_no_reference_gives_is_refused(self, made: str) -> None:
        """An id that no reference gives (a / in it, or not a reference once read back) is refused."""
        with pytest.raises(ValueError, match="workflow id: not the id of a case reference"):
            case_ref(made)

    def test_invalid_reference_has_no_id(self) -> None:
        """workflow_id refuses what is not a reference, with the rule."""
        with pytest.raises(ValueError, match="must be 3 to 40"):
            workflow_id("WP DVDS 1")
