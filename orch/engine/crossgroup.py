"""Cross-group safety when groups run separately on one state file (issue 10.2).

Groups that share a state file share its ledger, so a group's lifecycle policy can see what the
other groups handed off. An archive or delete of data reached from an analysis that another group
handed off recently (within the hold: the file's ``cross_group_hold_days`` variable, default 30),
or whose hand-off another group has pending, is not planned; the note names the other group.
Records made before ledgers kept groups (UNASSIGNED) and the policy's own group's records do not
hold anything back here: within one run, ``reconcile.handoff_first`` orders the hand-off first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from orch.engine.kinds import kind
from orch.engine.plan import ReachedFrom
from orch.inventory import IcaAnalysis, Resource
from orch.timeutil import parse_ts

HOLD_VAR = "cross_group_hold_days"
DEFAULT_HOLD_DAYS = 30


class CrossGroupGuard:
    """Reads the ledger's hand-off records and pending hand-offs once per planning run."""

    def __init__(self, ledger: Any, now: datetime):
        self._ledger = ledger
        self._now = now
        self._records: dict[str, list[Any]] | None = None
        self._pending: dict[str, list[Any]] | None = None

    def _load(self) -> None:
        self._records, self._pending = {}, {}
        if self._ledger is None:
            return
        for m in self._ledger.managed():
            if m.group:
                self._records.setdefault(m.analysis_id, []).append(m)
        for p in getattr(self._ledger, "pending", lambda: [])():
            self._pending.setdefault(p.analysis_id, []).append(p)

    def why(self, group: str, vars: dict[str, Any], action: str, r: Resource,
            reached_from: ReachedFrom | None) -> str:
        """Why ``group``'s ``action`` on ``r`` must wait for another group's hand-off ("" when it need not)."""
        cls = kind(action)
        if cls is None or not cls.lifecycle:
            return ""
        ids: set[str] = set(reached_from.analyses) if reached_from is not None else set()
        if isinstance(r, IcaAnalysis):
            ids.add(r.id)
        if not ids:
            return ""
        if self._records is None:
            self._load()
        hold = _hold_days(vars)
        since = self._now - timedelta(days=hold)
        for aid in sorted(a.lower() for a in ids):
            for p in self._pending.get(aid, []):
                if p.group != group:
                    return (f"group {p.group}'s hand-off of analysis {aid} is pending ({p.reason}); it waits for "
                            f"that hand-off")
            for m in _newest_first(self._records.get(aid, [])):
                at = parse_ts(m.managed_at)
                if m.group != group and at is not None and at > since:
                    return (f"group {m.group} handed analysis {m.run_id or aid} off on {m.managed_at[:10]} "
                            f"({m.policy}), within the {hold:g}-day cross-group hold ({HOLD_VAR})")
        return ""


def _hold_days(vars: dict[str, Any]) -> float:
    value = vars.get(HOLD_VAR, DEFAULT_HOLD_DAYS)
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return float(DEFAULT_HOLD_DAYS)


def _newest_first(records: Iterable[Any]) -> list[Any]:
    return sorted(records, key=lambda m: m.managed_at, reverse=True)
