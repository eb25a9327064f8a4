"""Matchers on statuses and on ICA analyses: status, pipeline, managed, managed_by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from orch.inventory import IcaAnalysis, Resource, normalise_analysis_status
from orch.matchers.base import BaseMatcher, BuildContext, Path
from orch.registry import EvalContext, matchers

_STATUS_FIELD = {"ica.analysis": "status", "ica.data": "status", "bssh.run": "Status"}


@dataclass(frozen=True)
class StatusParams:
    values: tuple[str, ...]


@matchers.register("status")
class StatusMatcher(BaseMatcher):
    Params = StatusParams
    resource_kinds = frozenset(_STATUS_FIELD)
    doc = ("The resource's status is one of the given values (ICA analysis statuses in the V3 "
           "spelling: INPROGRESS, FAILEDFINAL; V4 spellings are normalised).")
    example = "status: [SUCCEEDED, FAILED, FAILEDFINAL, ABORTED]"
    schema = {"type": ["string", "array"], "minLength": 1, "minItems": 1,
              "items": {"type": "string", "minLength": 1},
              "x-expected": "a status or a list of statuses"}

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "StatusMatcher | None":
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            rendered = b.render(item, path + ((i,) if isinstance(value, list) else ()))
            if not isinstance(rendered, str) or not rendered:
                if rendered is not None:
                    b.error(path, "status values must be non-empty strings")
                return None
            out.append(rendered)
        return cls(StatusParams(tuple(out)))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        status = resource.attr(_STATUS_FIELD.get(resource.kind, "status"))
        if status is Resource.MISSING or status is None:
            return None
        if resource.kind == "ica.analysis":
            return normalise_analysis_status(str(status)) in {normalise_analysis_status(v) for v in self.params.values}
        return status in self.params.values

    def describe(self) -> str:
        v = self.params.values
        return f"status {v[0]}" if len(v) == 1 else f"status in [{', '.join(v)}]"

    def fields(self, kind: str | None = None) -> set[str]:
        return {_STATUS_FIELD.get(kind or "", "status")}  # BaseSpace runs: Status


@dataclass(frozen=True)
class PipelineParams:
    regex: "re.Pattern[str]"


@matchers.register("pipeline")
class PipelineMatcher(BaseMatcher):
    Params = PipelineParams
    resource_kinds = frozenset({"ica.analysis"})
    doc = "The analysis's pipeline.code matches the regex (re.search; (?i) for case-insensitive)."
    example = "pipeline: '(?i)bcl.*convert'"
    schema = {"type": "string", "minLength": 1}

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "PipelineMatcher | None":
        compiled = b.regex(value, path)
        return None if compiled is None else cls(PipelineParams(compiled))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        code = resource.attr("pipeline.code")
        if code is Resource.MISSING or code is None:
            return None
        return self.params.regex.search(str(code)) is not None

    def describe(self) -> str:
        return f"pipeline.code matches {self.params.regex.pattern!r}"

    def fields(self, kind: str | None = None) -> set[str]:
        return {"pipeline.code"}


@dataclass(frozen=True)
class ManagedParams:
    value: bool = True
    by: str | None = None  # the group whose records count; None: any group's
    explicit: bool = False  # written as {by: ...} (the default is the file's own group)


#: a group name, as the top-level ``group`` of a policy file spells it
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@matchers.register("managed")
class ManagedMatcher(BaseMatcher):
    Params = ManagedParams
    bare = True
    resource_kinds = frozenset({"ica.analysis"})
    doc = ("The analysis's hand-off is recorded in the ledger by this file's group (`managed: false` for the "
           "opposite). Bare `managed` = true. `managed: {by: any}` counts any group's record, "
           "`managed: {by: GROUP}` that group's. Records from before ledgers kept groups count for every group.")
    example = "not: managed"
    schema = {"oneOf": [{"$ref": "#/$defs/bool"},
                        {"type": "object", "additionalProperties": False, "required": ["by"],
                         "properties": {"by": {"type": "string", "minLength": 1}}}]}

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "ManagedMatcher | None":
        own = getattr(b, "group", None) or None
        if value is None:
            return cls(ManagedParams(True, own))
        if isinstance(value, dict):
            by = b.render(value.get("by"), path + ("by",))
            if not isinstance(by, str) or not (by == "any" or _GROUP.match(by)):
                b.error(path + ("by",), f"managed.by needs any or a group name (letters, digits, . _ -), got {by!r}")
                return None
            return cls(ManagedParams(True, None if by == "any" else by, explicit=True))
        rendered = b.render(value, path)
        if not isinstance(rendered, bool):
            if rendered is not None:
                b.error(path, f"managed needs true, false or {{by: any|GROUP}}, got {rendered!r}")
            return None
        return cls(ManagedParams(rendered, own))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        if not isinstance(resource, IcaAnalysis):
            return None
        return ctx.is_managed(resource, self.params.by) == self.params.value

    def describe(self) -> str:
        what = "managed" if self.params.value else "not managed"
        if not self.params.explicit:
            return what
        return what + (" by any group" if self.params.by is None else f" by {self.params.by}")


@dataclass(frozen=True)
class ManagedByParams:
    platform: str  # basespace | ica


@matchers.register("managed_by")
class ManagedByMatcher(BaseMatcher):
    Params = ManagedByParams
    resource_kinds = frozenset({"ica.analysis"})
    doc = ("basespace: the analysis outputs contain bsshoutput.json (its data lives in BaseSpace "
           "projects); ica: they do not.")
    example = "managed_by: basespace"
    cost = "read"  # reads the analysis outputs (bsshoutput.json)
    schema = {"type": "string", "pattern": "^(basespace|ica)$|\\{\\{|\\{%",
              "x-expected": "basespace, ica or a {{ template }}"}

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "ManagedByMatcher | None":
        rendered = b.render(value, path)
        if rendered not in ("basespace", "ica"):
            if rendered is not None:
                b.error(path, f"managed_by must be basespace or ica, got {rendered!r}")
            return None
        return cls(ManagedByParams(rendered))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        if not isinstance(resource, IcaAnalysis):
            return None
        has = ctx.bsshoutput(resource) is not None
        return has == (self.params.platform == "basespace")

    def describe(self) -> str:
        return f"managed by {'BaseSpace (bsshoutput.json)' if self.params.platform == 'basespace' else 'ICA'}"
