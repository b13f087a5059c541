"""The case's search attributes: non-personal facts that visibility queries filter on.

Registered by `dvds up` (and the test server) from `ALL`, upserted by `CaseWorkflow`.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from states.record import CaseSnapshot
from states.roles import TASK_ROLE
from workflows import report_facts

STATE = SearchAttributeKey.for_keyword("DvdsState")
ROUTE = SearchAttributeKey.for_keyword("DvdsRoute")
RISK_LEVEL = SearchAttributeKey.for_keyword("DvdsRiskLevel")
RECEIVED = SearchAttributeKey.for_datetime("DvdsReceived")
PENDING_TASKS = SearchAttributeKey.for_keyword_list("DvdsPendingTasks")
PENDING_ROLES = SearchAttributeKey.for_keyword_list("DvdsPendingRoles")
NEXT_DUE = SearchAttributeKey.for_datetime("DvdsNextDue")
HISTORICAL = SearchAttributeKey.for_bool("DvdsHistorical")
OVERDUE = SearchAttributeKey.for_bool("DvdsOverdue")
PRIORITY = SearchAttributeKey.for_keyword("DvdsPriority")
SUBJECT_KEYS = SearchAttributeKey.for_keyword_list("DvdsSubjectKeys")
FAILURE_TYPE = SearchAttributeKey.for_keyword("DvdsFailureType")
REFERRAL = SearchAttributeKey.for_keyword("DvdsReferral")
# The DvdsState of a run the worker refused (workflows/payload_gate.py): not a case, left out of every list.
REFUSED = "refused"
# When the IOPC referral is due, while it is not yet filed (unset once filed): the metrics
# count referrals pending and past their limit from it.
REFERRAL_DUE = SearchAttributeKey.for_datetime("DvdsReferralDue")
# Staff ids who made the decision or did the research (ids only), space-separated: a confirmed
# failure's look-back finds that person's other cases by it (states/lookback.py). Text, matched
# word by word: the dev server takes at most three keyword lists, and the case has them.
STAFF = SearchAttributeKey.for_text("DvdsStaff")

ALL: tuple[SearchAttributeKey, ...] = (
    STATE,
    ROUTE,
    RISK_LEVEL,
    RECEIVED,
    PENDING_TASKS,
    PENDING_ROLES,
    NEXT_DUE,
    HISTORICAL,
    OVERDUE,
    PRIORITY,
    SUBJECT_KEYS,
    FAILURE_TYPE,
    REFERRAL,
    REFERRAL_DUE,
    *report_facts.KEYS,
    STAFF,
)


def cli_flags() -> list[str]:
    """`--search-attribute` flags for `temporal server start-dev`."""
    kinds = {
        "KEYWORD": "Keyword",
        "DATETIME": "Datetime",
        "KEYWORD_LIST": "KeywordList",
        "BOOL": "Bool",
        "INT": "Int",
        "TEXT": "Text",
        "DOUBLE": "Double",
    }
    flags = []
    for key in ALL:
        kind = kinds[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


def wanted(snapshot: CaseSnapshot, subject_keys: list[str]) -> list[tuple[SearchAttributeKey[Any], Any]]:
    """Every search attribute a case should carry now; None means unset."""
    open_dues = [d.due for d in snapshot.deadlines if d.open]
    return [
        (STATE, str(snapshot.state)),
        (ROUTE, snapshot.route),
        (RECEIVED, snapshot.received_at),
        (PENDING_TASKS, [str(t) for t in snapshot.pending_tasks]),
        (PENDING_ROLES, sorted({str(TASK_ROLE[t]) for t in snapshot.pending_tasks})),
        (HISTORICAL, snapshot.historical),
        (OVERDUE, snapshot.overdue),
        (RISK_LEVEL, snapshot.risk_level and str(snapshot.risk_level)),
        (NEXT_DUE, min(open_dues, default=None)),
        (PRIORITY, snapshot.priority and str(snapshot.priority)),
        (FAILURE_TYPE, snapshot.failure_type and str(snapshot.failure_type)),
        (REFERRAL, snapshot.referral and snapshot.referral.category),
        (SUBJECT_KEYS, subject_keys or None),
    ]


def referral_due(snapshot: CaseSnapshot) -> tuple[SearchAttributeKey[Any], Any]:
    """When the referral not yet filed is due; None (unset) when there is none to file."""
    due = next((d.due for d in snapshot.deadlines if d.name == "iopc_referral" and d.open), None)
    return REFERRAL_DUE, due


def staff(snapshot: CaseSnapshot) -> tuple[SearchAttributeKey[Any], Any]:
    """Who decided or researched; None (unset) until someone has."""
    return STAFF, " ".join(snapshot.staff) or None


def initial(snapshot: CaseSnapshot, subject_keys: list[str]) -> TypedSearchAttributes:
    """The attributes a case starts with, so visibility lists it from its first moment."""
    return TypedSearchAttributes(
        [SearchAttributePair(key, value) for key, value in wanted(snapshot, subject_keys) if value is not None]
    )
