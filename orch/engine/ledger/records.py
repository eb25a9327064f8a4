"""What the ledger hands out: one frozen dataclass per table row."""

from __future__ import annotations

from dataclasses import dataclass

#: the group of a hand-off recorded before ledgers kept groups (schema 1), or imported without
#: ``--group`` into a ledger that held no group: it counts as handed off for every group
UNASSIGNED = ""

#: what orch knows about an unverified platform route on one account (issue 9.2)
ROUTE_STATES = ("confirmed", "unavailable", "unknown")


@dataclass(frozen=True)
class ManagedAnalysis:
    """One hand-off record: ``group``'s policy ``policy`` handed ``analysis_id`` off."""

    analysis_id: str
    reference: str
    managed_at: str
    policy: str
    project_id: str | None = None
    source: str | None = None
    group: str = UNASSIGNED
    run_id: str = ""  # the run folder name (the legacy table's run_id column)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str  # the run clock (--now / the sandbox clock)
    action_id: str
    policy: str
    action: str
    resource_kind: str
    resource_id: str
    resource_name: str
    outcome: str
    message: str
    group: str = UNASSIGNED
    wall_time: str | None = None  # real UTC time of the write (None for entries of schema 1)


@dataclass(frozen=True)
class AppliedPlan:
    """A saved plan that was applied, by its digest (issue 12.3)."""

    digest: str
    applied_at: str  # the run clock of the first apply
    wall_time: str
    applies: int  # how many times it was applied (> 1 only with --reapply)
    last_applied_at: str
    source: str = ""  # the plan file as given
    summary: str = ""  # e.g. "12 done, 1 failed"


@dataclass(frozen=True)
class PendingHandoff:
    """A hand-off held back (a file PARTIAL, protected, unreadable...) that must not age out (16.2)."""

    group: str
    policy: str
    analysis_id: str
    reason: str
    since: str  # when it was first held back (kept when the reason changes)
    updated_at: str


@dataclass(frozen=True)
class RouteState:
    """What orch learnt about a route on one account: ``state`` in ROUTE_STATES (issue 9.2)."""

    account: str
    route: str
    state: str
    since: str
    evidence: str = ""
