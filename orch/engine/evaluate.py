"""Evaluating a policy's filters on a resource: three-valued, cheap matchers first."""

from __future__ import annotations

from typing import Iterable

from orch.engine.context import PlanContext
from orch.inventory import Resource
from orch.registry import Matcher


def _expensive(m: Matcher) -> bool:
    """Matchers that need a platform read beyond the resource itself (``cost``; evaluated last)."""
    return any(x.cost != "local" for x in m.walk())


def evaluate(filters: Iterable[Matcher], resource: Resource, ctx: PlanContext) -> bool:
    """All filters true (cheap ones first; a false one stops the evaluation)."""
    ordered = sorted(filters, key=_expensive)
    unknown = False
    for m in ordered:
        r = m.evaluate(resource, ctx)
        if r is False:
            return False
        unknown = unknown or r is None
    return not unknown


def split_cheap(filters: Iterable[Matcher]) -> tuple[list[Matcher], list[Matcher]]:
    filters = list(filters)
    return [m for m in filters if not _expensive(m)], [m for m in filters if _expensive(m)]
