"""The case's search attributes: non-personal facts that visibility queries filter on.

Registered by `dvds up` (and the test server) from `ALL`, upserted by `CaseWorkflow`.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

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
        "FLOAT": "Double",
    }
    flags = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name.removeprefix('INDEXED_VALUE_TYPE_')]}"]
    return flags
