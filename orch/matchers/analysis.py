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


@matchers.register("managed")
class ManagedMatcher(BaseMatcher):
    Params = ManagedParams
    bare = True
    resource_kinds = frozenset({"ica.analysis"})
    doc = "The analysis is recorded in the ledger (managed: false for the opposite). Bare `managed` = true."
    example = "not: managed"
    schema = {"$ref": "#/$defs/bool"}

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "ManagedMatcher | None":
        if value is None:
            return cls(ManagedParams(True))
        rendered = b.render(value, path)
        if not isinstance(rendered, bool):
            if rendered is not None:
                b.error(path, f"managed needs true or false, got {rendered!r}")
            return None
        return cls(ManagedParams(rendered))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        if not isinstance(resource, IcaAnalysis):
            return None
        return ctx.is_managed(resource) == self.params.value

    def describe(self) -> str:
        return "managed" if self.params.value else "not managed"


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
