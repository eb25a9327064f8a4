"""``age: {field, older_than, younger_than}``: age = now - timestamp, exact, UTC.

``older_than: 90d`` is age > 90 days; ``younger_than: 90d`` is age < 90 days. A missing or
unparseable timestamp is unknown (never selected, also under ``not``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orch.inventory import Resource
from orch.matchers.base import BaseMatcher, BuildContext, Path
from orch.registry import EvalContext, matchers
from orch.timeutil import parse_ts


@dataclass(frozen=True)
class AgeParams:
    field: str
    older_than: timedelta | None = None
    younger_than: timedelta | None = None


def fmt_duration(d: timedelta) -> str:
    secs = d.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size and secs % size == 0:
            return f"{int(secs // size)}{unit}"
    return f"{secs:g}s"


@matchers.register("age")
class AgeMatcher(BaseMatcher):
    Params = AgeParams
    doc = ("Age of a timestamp attribute: age = now - timestamp, exact, UTC. older_than: 90d means "
           "age > 90 days, younger_than: 90d means age < 90 days; both given means both hold. "
           "Durations: N followed by s, m, h, d or w. A missing timestamp is unknown.")
    example = "age: {field: startDate, older_than: 90d}"
    schema = {
        "type": "object",
        "properties": {
            "field": {"type": "string", "minLength": 1, "description": "timestamp attribute path"},
            "older_than": {"$ref": "#/$defs/duration"},
            "younger_than": {"$ref": "#/$defs/duration"},
        },
        "required": ["field"],
        "anyOf": [{"required": ["older_than"]}, {"required": ["younger_than"]}],
        "additionalProperties": False,
    }

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "AgeMatcher | None":
        field = b.render(value["field"], path + ("field",))
        if not isinstance(field, str) or not field:
            b.error(path + ("field",), "field must be a non-empty attribute path")
            return None
        older = younger = None
        ok = True
        if "older_than" in value:
            older = b.duration(value["older_than"], path + ("older_than",))
            ok = ok and older is not None
        if "younger_than" in value:
            younger = b.duration(value["younger_than"], path + ("younger_than",))
            ok = ok and younger is not None
        if not ok:
            return None
        return cls(AgeParams(field, older, younger))

    def age(self, resource: Resource, now: datetime) -> timedelta | None:
        value = resource.attr(self.params.field)
        if value is Resource.MISSING or value is None:
            return None
        try:
            ts = parse_ts(value)
        except (ValueError, TypeError):
            return None
        return None if ts is None else now - ts

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        age = self.age(resource, ctx.now)
        if age is None:
            return None
        p = self.params
        if p.older_than is not None and not age > p.older_than:
            return False
        if p.younger_than is not None and not age < p.younger_than:
            return False
        return True

    def describe(self) -> str:
        p = self.params
        parts = []
        if p.older_than is not None:
            parts.append(f"older than {fmt_duration(p.older_than)}")
        if p.younger_than is not None:
            parts.append(f"younger than {fmt_duration(p.younger_than)}")
        return f"{p.field} {' and '.join(parts)}"

    def fields(self, kind: str | None = None) -> set[str]:
        return {self.params.field}

    def explain(self, resource: Resource, now: datetime) -> str:
        """``startDate 2026-07-01, 147.1 days ago`` ("" when the timestamp is missing)."""
        age = self.age(resource, now)
        if age is None:
            return ""
        return f"{self.params.field} {(now - age).strftime('%Y-%m-%d')}, {age.total_seconds() / 86400:.1f} days ago"
