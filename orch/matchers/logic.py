"""Combinators: all, any, not, and ``use`` of a named matcher. Three-valued (see base)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orch.inventory import Resource
from orch.matchers.base import BaseMatcher, BuildContext, Path
from orch.registry import EvalContext, matchers

_LIST = {"type": "array", "items": {"$ref": "#/$defs/matcher"}, "minItems": 1}


@dataclass(frozen=True)
class ListParams:
    items: tuple[BaseMatcher, ...]


def _build_list(cls, value: Any, b: BuildContext, path: Path):
    built = [b.matcher(item, path + (i,)) for i, item in enumerate(value)]
    if any(m is None for m in built):
        return None
    return cls(ListParams(tuple(built)))


class _ListMatcher(BaseMatcher):
    """A matcher over a list of matchers (all, any)."""

    Params = ListParams
    schema = _LIST

    @classmethod
    def build(cls, value, b, path):
        return _build_list(cls, value, b, path)

    def children(self):
        return list(self.params.items)


@matchers.register("all")
class AllMatcher(_ListMatcher):
    doc = "Every matcher of the list matches (a policy's filters list is an implicit all)."
    example = "all: [{field: name, regex: '\\.fastq\\.gz$'}, not: {field: name, regex: '^Undetermined'}]"

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        unknown = False
        for m in self.params.items:
            r = m.evaluate(resource, ctx)
            if r is False:
                return False
            unknown = unknown or r is None
        return None if unknown else True

    def describe(self) -> str:
        return " and ".join(m.describe() for m in self.params.items)


@matchers.register("any")
class AnyMatcher(_ListMatcher):
    doc = "At least one matcher of the list matches."
    example = "any: [status: FAILED, status: ABORTED]"

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        unknown = False
        for m in self.params.items:
            r = m.evaluate(resource, ctx)
            if r is True:
                return True
            unknown = unknown or r is None
        return None if unknown else False

    def describe(self) -> str:
        return "(" + " or ".join(m.describe() for m in self.params.items) + ")"


@dataclass(frozen=True)
class NotParams:
    inner: BaseMatcher


@matchers.register("not")
class NotMatcher(BaseMatcher):
    Params = NotParams
    doc = "The matcher does not match. Unknown stays unknown: not of a missing field selects nothing."
    example = "not: {age: {field: startDate, older_than: 60d}}"
    schema = {"$ref": "#/$defs/matcher"}

    @classmethod
    def build(cls, value, b, path):
        inner = b.matcher(value, path)
        return None if inner is None else cls(NotParams(inner))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        r = self.params.inner.evaluate(resource, ctx)
        return None if r is None else not r

    def children(self):
        return [self.params.inner]

    def describe(self) -> str:
        return f"not {self.params.inner.describe()}"


@dataclass(frozen=True)
class UseParams:
    name: str
    target: BaseMatcher


@matchers.register("use")
class UseMatcher(BaseMatcher):
    Params = UseParams
    doc = "A named matcher from the file's `matchers:` section."
    example = "use: mgi_fastq"
    schema = {"type": "string", "minLength": 1}

    @classmethod
    def build(cls, value, b, path):
        target = b.named(value, path)
        return None if target is None else cls(UseParams(value, target))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        return self.params.target.evaluate(resource, ctx)

    def children(self):
        return [self.params.target]

    def describe(self) -> str:
        inner = self.params.target.describe()
        return inner if len(inner) <= 60 else self.params.name
