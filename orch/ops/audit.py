"""``orch audit``: what orch did, from the ledger's audit table, as a table, JSON or CSV.

Each entry shows the wall-clock time it was written beside the run clock the run used (``--now``,
the sandbox clock, else the same real time). The ledger is opened read-only. ``--since`` is a
duration back from now (``7d``) or an ISO 8601 time, compared with the wall clock (with the run
clock for entries written before the ledger recorded wall-clock time).
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from orch.errors import ConfigError
from orch.timeutil import parse_duration, parse_ts, utcnow

FIELDS = ("wall_time", "time", "group", "policy", "action", "outcome", "resource_kind", "resource_name",
          "resource_id", "message")
HEADERS = {"wall_time": "wall clock", "time": "run clock", "resource_kind": "kind", "resource_name": "resource",
           "resource_id": "id"}


@dataclass(frozen=True)
class AuditRow:
    wall_time: str
    time: str
    group: str
    policy: str
    action: str
    outcome: str
    resource_kind: str
    resource_name: str
    resource_id: str
    message: str

    @classmethod
    def of(cls, e: Any) -> "AuditRow":
        return cls(wall_time=getattr(e, "wall_time", None) or "-", time=e.time, group=getattr(e, "group", "") or "",
                   policy=e.policy, action=e.action, outcome=e.outcome, resource_kind=e.resource_kind,
                   resource_name=e.resource_name or "", resource_id=e.resource_id, message=e.message or "")

    def as_dict(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in FIELDS}


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    if not text:
        return None
    try:
        return (now or utcnow()) - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_ts(text)
    except ValueError:
        raise ConfigError(f"--since {text!r} is neither a duration (7d, 12h) nor an ISO 8601 time") from None


def read_audit(state: str, *, since: datetime | None = None, group: str | None = None,
               limit: int | None = None) -> list[AuditRow]:
    """Newest first. The ledger's own ``history`` does the query (read-only where it can)."""
    from orch.engine.ledger import Ledger

    if not Path(state).exists():
        raise ConfigError(f"no ledger at {state}; give --state PATH (or --sandbox for the sandbox runs' ledger)")
    kw = {"readonly": True} if "readonly" in inspect.signature(Ledger).parameters else {}
    with Ledger(state, **kw) as ledger:
        if "group" in inspect.signature(ledger.history).parameters:
            entries = ledger.history(None if since else limit, group=group)
        else:  # schema 1 ledger code: no group recorded, --group matches nothing
            entries = [e for e in ledger.history(1_000_000 if since else (limit or 1_000_000))
                       if group is None or getattr(e, "group", None) == group]
    if since is not None:
        entries = [e for e in entries if parse_ts(getattr(e, "wall_time", None) or e.time) >= since]
    if limit is not None:
        entries = entries[:limit]
    return [AuditRow.of(e) for e in entries]


def render(rows: Iterable[AuditRow], fmt: str) -> str:
    rows = list(rows)
    if fmt == "json":
        return json.dumps([r.as_dict() for r in rows], indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r.as_dict())
        return buf.getvalue()
    if fmt == "table":
        return _table(rows)
    raise ConfigError(f"unknown --format {fmt!r}; use table, json or csv")


def _table(rows: list[AuditRow]) -> str:
    if not rows:
        return "No audit entries.\n"
    cols = [f for f in FIELDS if f != "resource_id"]
    cells = [[HEADERS.get(c, c) for c in cols]] + [[_cell(r, c) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols) - 1)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row[:-1], widths)) + "  " + row[-1] for row in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(r: AuditRow, col: str) -> str:
    if col == "resource_name":
        return r.resource_name or r.resource_id
    return str(getattr(r, col)).replace("\n", " ")


def audit_command(state: str, *, since: str | None, group: str | None, fmt: str, limit: int | None) -> str:
    if fmt not in ("table", "json", "csv"):
        raise ConfigError(f"unknown --format {fmt!r}; use table, json or csv")
    return render(read_audit(state, since=parse_since(since), group=group, limit=limit), fmt)
