"""The plan model (contracts section 2): actions, hashing, the deterministic order, the plan file.

A plan is the reviewed, versioned list of actions ``orch apply`` executes exactly. Everything
here is pure: ids and fingerprints are sha256 over canonical JSON, actions are sorted by a
stated key with dependencies first, and ``to_json`` gives byte-identical output for the same
inputs apart from ``created_at``. Apply results: results.py; the file's JSON Schema: plan_schema.py.

Sort order (``sort_key``): policy name, action rank (``kinds.action_order()``: each action class's
``order``), resource kind, resource path (else name), resource id, action id; then a stable
topological pass puts every action after the actions it ``depends_on`` (among ready actions the
smallest key goes first).
"""

from __future__ import annotations

import enum
import hashlib
import heapq
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from orch.engine import kinds
from orch.engine.plan_schema import FORMAT_VERSION, FP_LEN, ID_LEN, plan_schema, validation_error  # noqa: F401
from orch.engine.results import ActionResult, ApplyReport, Outcome  # noqa: F401  (re-exported)
from orch.errors import ConfigError, OrchError
from orch.timeutil import format_ts, parse_ts, utcnow
from orch.vocab import RESOURCE_KINDS  # noqa: F401  (re-exported)


class PlanError(OrchError):
    """A plan is internally inconsistent (duplicate id, unknown dependency, cycle)."""


# ---------------------------------------------------------------- hashing
def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the input of every hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_json_default)


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def action_id(policy: str, action: str, resource_kind: str, resource_id: str,
              params: Mapping[str, Any] | None = None) -> str:
    """Stable id of an action: short sha256 of policy, action, resource and params."""
    return _sha256([policy, action, resource_kind, resource_id, dict(params or {})])[:ID_LEN]


def fingerprint(resource_fields: Mapping[str, Any]) -> str:
    """Stable hash of the resource fields a decision used (field name -> value)."""
    return _sha256(dict(resource_fields))[:FP_LEN]


# ---------------------------------------------------------------- model
@dataclass
class ResourceRef:
    """The ``resource`` object of an action: kind, platform id, name, project and any extras."""

    kind: str
    id: str
    name: str = ""
    project_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # path, status, time_created, ...

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ResourceRef":
        rest = {k: v for k, v in data.items() if k not in ("kind", "id", "name", "project_id")}
        return cls(kind=data["kind"], id=str(data["id"]), name=data.get("name") or "",
                   project_id=data.get("project_id"), extra=rest)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update(kind=self.kind, id=self.id, name=self.name)
        if self.project_id is not None:
            out["project_id"] = self.project_id
        return out

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    @property
    def path(self) -> str | None:
        return self.extra.get("path")

    def label(self) -> str:
        """What a person recognises: the path, else the name, else the id."""
        return self.path or self.name or self.id


@dataclass
class ReachedFrom:
    """``resource.reached_from``: the analyses (of one project) a resource was reached from; apply
    re-checks their protection."""

    project_id: str
    analyses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"project_id": self.project_id, "analyses": sorted(self.analyses)}

    @classmethod
    def from_dict(cls, data: Any) -> "ReachedFrom | None":
        if not isinstance(data, Mapping) or not data.get("analyses"):
            return None
        return cls(str(data.get("project_id")), [str(a) for a in data["analyses"]])


@dataclass
class PlannedAction:
    """One action of a plan (contracts section 2).

    Additive fields beyond the contract: ``won_over`` (policies whose action on the same
    resource lost to, or was merged into, this one) and ``fingerprint_fields`` (the field
    paths the fingerprint covers, so apply can re-read and compare the same fields).
    """

    id: str
    policy: str
    group: str
    action: str
    resource: ResourceRef
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    fingerprint: str = ""
    depends_on: list[str] = field(default_factory=list)
    won_over: list[str] = field(default_factory=list)
    fingerprint_fields: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.resource, Mapping):
            self.resource = ResourceRef.from_dict(self.resource)

    @classmethod
    def create(cls, policy: str, group: str, action: str, resource: ResourceRef | Mapping[str, Any],
               params: Mapping[str, Any] | None = None, reason: str = "", fingerprint: str = "",
               depends_on: Iterable[str] = (), won_over: Iterable[str] = (),
               fingerprint_fields: Iterable[str] = ()) -> "PlannedAction":
        """Build an action with its id computed from policy, action, resource and params."""
        ref = resource if isinstance(resource, ResourceRef) else ResourceRef.from_dict(resource)
        params = dict(params or {})
        return cls(id=action_id(policy, action, ref.kind, ref.id, params), policy=policy, group=group,
                   action=action, resource=ref, params=params, reason=reason, fingerprint=fingerprint,
                   depends_on=sorted(set(depends_on)), won_over=sorted(set(won_over)),
                   fingerprint_fields=sorted(set(fingerprint_fields)))

    @property
    def destructive(self) -> bool:
        return is_destructive(self)

    def display_action(self) -> str:
        """The kind as shown (``unarchive → delete`` for the first step of a two-phase delete)."""
        cls = kinds.kind(self.action)
        return cls.display(self.params) if cls is not None else self.action

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id, "policy": self.policy, "group": self.group, "action": self.action,
            "resource": self.resource.to_dict(), "params": self.params, "reason": self.reason,
            "fingerprint": self.fingerprint, "depends_on": list(self.depends_on),
        }
        if self.won_over:
            out["won_over"] = list(self.won_over)
        if self.fingerprint_fields:
            out["fingerprint_fields"] = list(self.fingerprint_fields)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PlannedAction":
        return cls(id=data["id"], policy=data["policy"], group=data.get("group", ""), action=data["action"],
                   resource=ResourceRef.from_dict(data["resource"]), params=dict(data.get("params") or {}),
                   reason=data.get("reason", ""), fingerprint=data.get("fingerprint", ""),
                   depends_on=list(data.get("depends_on") or []), won_over=list(data.get("won_over") or []),
                   fingerprint_fields=list(data.get("fingerprint_fields") or []))


def is_destructive(action: PlannedAction | str, params: Mapping[str, Any] | None = None) -> bool:
    """What the action's kind says (``BaseAction.is_destructive``), e.g. ``unarchive`` with ``then: delete``."""
    if isinstance(action, PlannedAction):
        return kinds.is_destructive(action.action, action.params)
    return kinds.is_destructive(action, params)


@dataclass(frozen=True)
class PolicyFileRef:
    path: str
    sha256: str


@dataclass(frozen=True)
class PlanIssue:
    """An error in ``errors``: the policy it concerns (or "" for the whole run) and one sentence."""

    policy: str
    message: str


def _action_rank(kind: str) -> int:
    return kinds.rank_in_order(kind)


def sort_key(a: PlannedAction) -> tuple:
    return (a.policy, _action_rank(a.action), a.action, a.resource.kind, a.resource.path or a.resource.name,
            a.resource.id, a.id)


def sort_actions(actions: Iterable[PlannedAction]) -> list[PlannedAction]:
    """Deterministic order: ``sort_key``, with every action after its dependencies.

    Raises PlanError for duplicate ids, a dependency that is not in the plan, or a cycle.
    """
    items = list(actions)
    by_id: dict[str, PlannedAction] = {}
    for a in items:
        if a.id in by_id:
            raise PlanError(f"action {a.id} ({a.policy} {a.action} {a.resource.id}) is planned twice")
        by_id[a.id] = a
    waiting: dict[str, int] = {}
    dependants: dict[str, list[str]] = {i: [] for i in by_id}
    for a in items:
        deps = set(a.depends_on)
        for d in deps:
            if d not in by_id:
                raise PlanError(f"action {a.id} ({a.policy} {a.action}) depends on {d}, which is not in the plan")
            dependants[d].append(a.id)
        waiting[a.id] = len(deps)
    ready = [(sort_key(a), a.id) for a in items if waiting[a.id] == 0]
    heapq.heapify(ready)
    out: list[PlannedAction] = []
    while ready:
        _, aid = heapq.heappop(ready)
        out.append(by_id[aid])
        for nxt in dependants[aid]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, (sort_key(by_id[nxt]), nxt))
    if len(out) != len(items):
        stuck = sorted(i for i, n in waiting.items() if n > 0)
        raise PlanError(f"actions depend on each other in a cycle: {', '.join(stuck[:5])}")
    return out


def summarize(actions: Iterable[PlannedAction]) -> dict[str, int]:
    """Count of actions per kind (only kinds present)."""
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.action] = counts.get(a.action, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (_action_rank(kv[0]), kv[0])))


def _no_constant(name: str) -> Any:
    """JSON has no NaN or Infinity; Python's parser would accept them, a plan must not."""
    raise ValueError(f"{name} is not JSON")


@dataclass
class Plan:
    """A whole plan. Build with ``Plan.create`` (sorts and counts); save with ``save``/``to_json``."""

    now: datetime
    actions: list[PlannedAction] = field(default_factory=list)
    policy_files: list[PolicyFileRef] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    errors: list[PlanIssue] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: utcnow().replace(microsecond=0))
    orch_version: str = ""
    format_version: str = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not self.orch_version:
            from orch import __version__

            self.orch_version = __version__

    @classmethod
    def create(cls, now: datetime, actions: Iterable[PlannedAction] = (),
               policy_files: Iterable[PolicyFileRef] = (), vars: Mapping[str, Any] | None = None,
               errors: Iterable[PlanIssue] = (), created_at: datetime | None = None) -> "Plan":
        """A plan with actions in the deterministic order and files/errors sorted."""
        return cls(now=now, actions=sort_actions(actions),
                   policy_files=sorted(policy_files, key=lambda f: (f.path, f.sha256)),
                   vars=dict(vars or {}), errors=sorted(set(errors), key=lambda e: (e.policy, e.message)),
                   created_at=created_at or utcnow().replace(microsecond=0))

    # -- queries
    @property
    def summary(self) -> dict[str, int]:
        return summarize(self.actions)

    @property
    def destructive_actions(self) -> list[PlannedAction]:
        return [a for a in self.actions if a.destructive]

    def action(self, action_id: str) -> PlannedAction:
        for a in self.actions:
            if a.id == action_id:
                return a
        raise KeyError(action_id)

    def exit_code(self, detailed: bool = False) -> int:
        """1 on any error; with ``detailed``: 2 when there are changes, else 0."""
        if self.errors:
            return 1
        if detailed and self.actions:
            return 2
        return 0

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "orch_version": self.orch_version,
            "created_at": format_ts(self.created_at),
            "now": format_ts(self.now),
            "policy_files": [{"path": f.path, "sha256": f.sha256} for f in self.policy_files],
            "vars": self.vars,
            "actions": [a.to_dict() for a in self.actions],
            "summary": self.summary,
            "errors": [{"policy": e.policy, "message": e.message} for e in self.errors],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False,
                          default=_json_default) + "\n"

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically (a crash never leaves a half plan file)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Plan":
        return cls(
            format_version=data["format_version"], orch_version=data.get("orch_version", ""),
            created_at=parse_ts(data["created_at"]), now=parse_ts(data["now"]),
            policy_files=[PolicyFileRef(f["path"], f["sha256"]) for f in data.get("policy_files", [])],
            vars=dict(data.get("vars") or {}),
            actions=[PlannedAction.from_dict(a) for a in data.get("actions", [])],
            errors=[PlanIssue(e.get("policy", ""), e["message"]) for e in data.get("errors", [])],
        )

    @classmethod
    def loads(cls, text: str, source: str = "plan") -> "Plan":
        """Parse and validate a plan; any problem is one ConfigError line naming ``source``."""
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            where = f" (line {line})" if line else ""
            raise ConfigError(f"{source} is not a plan file: invalid JSON{where}") from None
        if not isinstance(data, dict) or "format_version" not in data or "orch_version" not in data:
            raise ConfigError(f"{source} is not an orch plan file (no format_version/orch_version; "
                              f"save one with `orch plan --out`)")
        if data["format_version"] != FORMAT_VERSION:
            raise ConfigError(f"{source} has plan format_version {data['format_version']!r}; "
                              f"this orch reads format_version {FORMAT_VERSION!r}")
        problem = validation_error(data)
        if problem:
            raise ConfigError(f"{source} is not a valid orch plan: {problem}")
        plan = cls.from_dict(data)
        for i, a in enumerate(plan.actions):
            if a.id != action_id(a.policy, a.action, a.resource.kind, a.resource.id, a.params):
                raise ConfigError(f"{source} is not a valid orch plan: action {i} ({a.id}) does not match its "
                                  f"policy, action, resource and params (was it edited by hand?)")
        sort_actions(plan.actions)  # ids unique, dependencies present, no cycle
        if data["summary"] != plan.summary:
            raise ConfigError(f"{source} is not a valid orch plan: its summary does not match its actions "
                              f"(was it edited by hand?)")
        return plan

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Plan":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read plan {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not a plan file: not UTF-8 text") from None
        return cls.loads(text, source=str(path))
