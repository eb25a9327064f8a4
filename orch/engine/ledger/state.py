"""Ledger tables other parts of orch keep their memory in (mixed into Ledger).

- applied plans by digest: a saved plan applied once is refused the second time (issue 12.3);
- pending hand-offs: held back, so they must neither age out nor lose their FASTQs (16.2);
- route states per account: whether an unverified platform route works there (9.2);
- facts: immutable platform facts (an analysis's output folder, the projects its
  bsshoutput.json names) remembered so a steady-state plan does not re-read them (13).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Mapping

from orch.engine.ledger.records import ROUTE_STATES, AppliedPlan, PendingHandoff, RouteState
from orch.timeutil import format_ts, utcnow


def _stamp(when: datetime | None) -> str:
    return format_ts(when or utcnow())


class StateMixin:
    # -- applied plans
    def record_applied_plan(self, digest: str, applied_at: datetime | None = None, *, source: str = "",
                            summary: str = "") -> AppliedPlan:
        """Record that the plan with ``digest`` was applied at ``applied_at`` (the run clock). A
        repeat keeps the first time and counts the applies. Returns the record."""
        at, wall = _stamp(applied_at), format_ts(utcnow())
        with self._tx() as db:
            db.execute("INSERT INTO applied_plans(digest, applied_at, wall_time, applies, last_applied_at, source, "
                       "summary) VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT(digest) DO UPDATE SET "
                       "applies = applies + 1, last_applied_at = excluded.last_applied_at, "
                       "summary = excluded.summary", (digest, at, wall, at, source or "", summary or ""))
        record = self.applied_plan(digest)
        assert record is not None
        return record

    def applied_plan(self, digest: str) -> AppliedPlan | None:
        """The record of the plan with ``digest``, or None if it was never applied here."""
        rows = self._query("SELECT digest, applied_at, wall_time, applies, last_applied_at, source, summary "
                           "FROM applied_plans WHERE digest = ?", (digest,))
        return AppliedPlan(*rows[0]) if rows else None

    # -- pending hand-offs
    def set_pending(self, group: str, policy: str, analysis_id: str, reason: str,
                    since: datetime | None = None) -> None:
        """Mark the hand-off pending (or update its reason); the first ``since`` is kept."""
        stamp = _stamp(since)
        with self._tx() as db:
            db.execute("INSERT INTO pending(grp, policy, analysis_id, reason, since, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(grp, policy, analysis_id) DO UPDATE SET "
                       "reason = excluded.reason, updated_at = excluded.updated_at",
                       (group, policy, analysis_id.lower(), reason, stamp, stamp))

    def pending(self, group: str | None = None, policy: str | None = None,
                analysis_id: str | None = None) -> list[PendingHandoff]:
        """Pending hand-offs, optionally of one group / policy / analysis, by (group, policy, analysis)."""
        where, args = _where(grp=group, policy=policy, analysis_id=analysis_id.lower() if analysis_id else None)
        return [PendingHandoff(*r) for r in self._query(
            f"SELECT grp, policy, analysis_id, reason, since, updated_at FROM pending{where} "
            f"ORDER BY grp, policy, analysis_id", args)]

    def clear_pending(self, analysis_id: str, group: str | None = None, policy: str | None = None) -> int:
        """Clear the analysis's pending hand-offs (of one group / policy if given); how many were cleared."""
        where, args = _where(grp=group, policy=policy, analysis_id=analysis_id.lower())
        with self._tx() as db:
            return db.execute(f"DELETE FROM pending{where}", args).rowcount

    # -- route states
    def route_state(self, account: str, route: str) -> str:
        """``confirmed``, ``unavailable`` or ``unknown`` (never recorded) for ``route`` on ``account``."""
        record = self.route_record(account, route)
        return record.state if record else "unknown"

    def route_record(self, account: str, route: str) -> RouteState | None:
        """The recorded state of ``route`` on ``account`` with its time and evidence, or None."""
        rows = self._query("SELECT account, route, state, since, evidence FROM route_states "
                           "WHERE account = ? AND route = ?", (account, route))
        return RouteState(*rows[0]) if rows else None

    def route_states(self, account: str | None = None) -> list[RouteState]:
        where, args = _where(account=account)
        return [RouteState(*r) for r in self._query(
            f"SELECT account, route, state, since, evidence FROM route_states{where} ORDER BY account, route", args)]

    def set_route_state(self, account: str, route: str, state: str, *, evidence: str = "",
                        when: datetime | None = None) -> None:
        """Record what a delete, a probe or ``orch doctor`` found about ``route`` on ``account``."""
        if state not in ROUTE_STATES:
            raise ValueError(f"route state must be one of {', '.join(ROUTE_STATES)}, got {state!r}")
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO route_states(account, route, state, since, evidence) "
                       "VALUES (?, ?, ?, ?, ?)", (account, route, state, _stamp(when), evidence or ""))

    # -- immutable facts
    def remember(self, kind: str, key: str, value: Any) -> None:
        """Remember a fact that never changes once true (JSON value), e.g. ``("output_folder", analysis id)``."""
        self.remember_many(kind, {key: value})

    def remember_many(self, kind: str, facts: Mapping[str, Any]) -> None:
        """Remember many facts of one kind in one transaction."""
        if not facts:
            return
        stamp = format_ts(utcnow())
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO facts(kind, key, value, stored_at) VALUES (?, ?, ?, ?)",
                           [(kind, str(k), json.dumps(v, sort_keys=True), stamp) for k, v in facts.items()])

    def recall(self, kind: str, key: str) -> Any | None:
        """The remembered value, or None."""
        rows = self._query("SELECT value FROM facts WHERE kind = ? AND key = ?", (kind, str(key)))
        return json.loads(rows[0][0]) if rows else None

    def recall_many(self, kind: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """Remembered facts of ``kind`` (all of them, or those of ``keys``): key -> value."""
        rows = self._query("SELECT key, value FROM facts WHERE kind = ?", (kind,))
        wanted = None if keys is None else {str(k) for k in keys}
        return {k: json.loads(v) for k, v in rows if wanted is None or k in wanted}

    def forget(self, kind: str, key: str | None = None) -> int:
        """Drop a remembered fact (or all of ``kind``); how many were dropped."""
        where, args = _where(kind=kind, key=key)
        with self._tx() as db:
            return db.execute(f"DELETE FROM facts{where}", args).rowcount


def _where(**conditions: str | None) -> tuple[str, tuple]:
    """`` WHERE a = ? AND b = ?`` for the conditions that are not None."""
    given = [(k, v) for k, v in conditions.items() if v is not None]
    if not given:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k, _ in given), tuple(v for _, v in given)
