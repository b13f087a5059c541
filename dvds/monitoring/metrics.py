"""The case engine's metrics, in one prometheus_client registry per process.

Labels carry rule names, roles, states, task and deadline names only: never a case
reference, a staff id, a name or a date (STYLE: personal data never in metric labels).

Gauges come from visibility counts on a timer (dvds/monitoring/visibility.py); every
process that exposes metrics counts the same cases, so aggregate them across instances
with max(), not sum(). Counters count what this process saw: sum them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

AGE_BANDS = ("under_7_days", "7_to_14_days", "14_to_21_days", "21_to_28_days", "over_28_days")


class DomainMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.open_cases = Gauge("dvds_open_cases", "Open cases, by state", ["state"], registry=r)
        self.tasks_waiting = Gauge(
            "dvds_tasks_waiting", "Open cases waiting on a task for a role, by how long since the case was received",
            ["role", "age"], registry=r,
        )
        self.overdue_cases = Gauge("dvds_overdue_cases", "Open cases with a deadline past due", registry=r)
        self.referrals_pending = Gauge(
            "dvds_referrals_pending", "Confirmed failures whose IOPC referral is not yet filed", registry=r
        )
        self.referrals_past_limit = Gauge(
            "dvds_referrals_past_limit", "IOPC referrals not yet filed past their limit", registry=r
        )
        self.last_count = Gauge(
            "dvds_counted_timestamp_seconds", "When the gauges above were last counted (Unix time)", registry=r
        )
        self.count_failures = Counter(
            "dvds_count_failures", "Visibility counts that failed (the gauges keep their last values)", registry=r
        )
        self.escalations = Counter(
            "dvds_escalations", "Escalations sent, by deadline, who is told, and whether it is a breach",
            ["deadline", "notify", "breach"], registry=r,
        )
        self.incidents = Counter(
            "dvds_incidents", "Refusals for good a person must act on: the IOPC gateway's, the mail server's",
            ["kind"], registry=r,
        )
        self.tasks_refused = Counter(
            "dvds_tasks_refused", "Task submissions refused, by task and rule", ["task", "rule"], registry=r
        )
        self.sign_ins_refused = Counter(
            "dvds_sign_ins_refused", "Sign-ins to the staff inbox refused, by rule", ["rule"], registry=r
        )

    def refused_task(self, task: str, rule: str) -> None:
        self.tasks_refused.labels(task=task, rule=rule).inc()

    def refused_sign_in(self, rule: str) -> None:
        self.sign_ins_refused.labels(rule=rule).inc()

    def incident(self, kind: str) -> None:
        self.incidents.labels(kind=kind).inc()

    def escalated(self, deadline: str, notify: str, breach: bool) -> None:
        self.escalations.labels(deadline=deadline, notify=notify, breach=str(breach).lower()).inc()
