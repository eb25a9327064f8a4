"""Apply results: one outcome per planned action, and the report of a whole apply."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orch.engine.plan import PlannedAction


class Outcome(str, enum.Enum):
    DONE = "done"
    SKIPPED = "skipped"  # already done (idempotent re-run)
    REFUSED_STALE = "refused-stale"  # the resource changed since the plan (fingerprint)
    REFUSED = "refused"  # a safety rule refused it (protect list, destructive not allowed, ...)
    FAILED = "failed"
    NOT_RUN = "not-run"  # a dependency did not succeed

    def __str__(self) -> str:
        return self.value

    @property
    def ok(self) -> bool:
        return self in (Outcome.DONE, Outcome.SKIPPED)


@dataclass
class ActionResult:
    action: PlannedAction
    outcome: Outcome
    message: str = ""

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)

    @property
    def action_id(self) -> str:
        return self.action.id

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.action.id, "policy": self.action.policy, "action": self.action.action,
                "resource": {"kind": self.action.resource.kind, "id": self.action.resource.id,
                             "name": self.action.resource.name},
                "outcome": self.outcome.value, "message": self.message}


@dataclass
class ApplyReport:
    results: list[ActionResult] = field(default_factory=list)

    def add(self, result: ActionResult) -> None:
        self.results.append(result)

    @property
    def counts(self) -> dict[str, int]:
        """Results per outcome, in ``Outcome`` order, only outcomes present."""
        counts = {o.value: 0 for o in Outcome}
        for r in self.results:
            counts[r.outcome.value] += 1
        return {k: v for k, v in counts.items() if v}

    @property
    def exit_code(self) -> int:
        """0 only when every action was done or already done; otherwise 1."""
        return 0 if all(r.ok for r in self.results) else 1

    def to_dict(self) -> dict[str, Any]:
        return {"results": [r.to_dict() for r in self.results], "counts": self.counts,
                "exit_code": self.exit_code}
