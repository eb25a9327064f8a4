"""Short texts the planner and the action kinds' planner steps put into reasons and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from orch.inventory import IcaAnalysis, Resource
from orch.registry import Matcher


def describe(filters: Iterable[Matcher]) -> str:
    return ", ".join(m.describe() for m in filters)


def filter_fields(filters: Iterable[Matcher], kind: str | None = None) -> set[str]:
    """The fields the filters read on a ``kind`` resource."""
    out: set[str] = set()
    for m in filters:
        out |= set(m.fields(kind))
    return out


def age_note(filters: Iterable[Matcher], resource: Resource, now: datetime) -> str:
    """What the matchers explain about the resource (``startDate 2026-07-01, 147.1 days ago``), each once."""
    notes: list[str] = []
    for m in filters:
        for sub in m.walk():
            text = sub.explain(resource, now)
            if text and text not in notes:
                notes.append(text)
    return "; ".join(notes)


def alabel(a: IcaAnalysis) -> str:
    """A short name for an analysis in reasons: its user reference (the run folder), else its reference."""
    return a.user_reference or a.reference or a.id


def label(r: Resource) -> str:
    for attr in ("path", "reference", "name", "id"):
        v = getattr(r, attr, None)
        if v:
            return str(v)
    return "?"


def plural(n: int, word: str = "") -> str:
    """``s`` unless ``n`` is 1 (``plural(2, "file")`` → ``files``)."""
    return word + ("" if n == 1 else "s")
