"""Age windows no timestamp can satisfy (``older_than 90d`` and ``younger_than 30d`` on one field):
lint reports them. Bounds come from age matchers in a conjunction, through ``use`` and ``not``."""

from __future__ import annotations

from datetime import timedelta

from orch.matchers.age import AgeMatcher, fmt_duration
from orch.matchers.base import BaseMatcher
from orch.matchers.logic import AllMatcher, NotMatcher, UseMatcher


def _conjuncts(items: list[BaseMatcher]) -> list[BaseMatcher]:
    out: list[BaseMatcher] = []
    for m in items:
        while isinstance(m, UseMatcher):
            m = m.params.target
        if isinstance(m, AllMatcher):
            out.extend(_conjuncts(list(m.params.items)))
        else:
            out.append(m)
    return out


def empty_window(items: list[BaseMatcher]) -> str | None:
    """Why the conjunction's age bounds on one field are empty, or None.

    Bounds: older_than X → age > X; younger_than Y → age < Y; not older_than B → age <= B;
    not younger_than C → age >= C.
    """
    lows: dict[str, list[tuple[timedelta, bool, str]]] = {}
    highs: dict[str, list[tuple[timedelta, bool, str]]] = {}
    for m in _conjuncts(items):
        negated = False
        while isinstance(m, (NotMatcher, UseMatcher)):
            if isinstance(m, NotMatcher):
                negated = not negated
                m = m.params.inner
            else:
                m = m.params.target
        if not isinstance(m, AgeMatcher):
            continue
        p = m.params
        if negated:
            if p.older_than is not None and p.younger_than is None:
                highs.setdefault(p.field, []).append((p.older_than, False, f"not older than {_d(p.older_than)}"))
            elif p.younger_than is not None and p.older_than is None:
                lows.setdefault(p.field, []).append((p.younger_than, False, f"not younger than {_d(p.younger_than)}"))
            continue
        if p.older_than is not None:
            lows.setdefault(p.field, []).append((p.older_than, True, f"older than {_d(p.older_than)}"))
        if p.younger_than is not None:
            highs.setdefault(p.field, []).append((p.younger_than, True, f"younger than {_d(p.younger_than)}"))
    for field in sorted(set(lows) & set(highs)):
        for lo, lo_strict, lo_text in lows[field]:
            for hi, hi_strict, hi_text in highs[field]:
                if lo > hi or (lo == hi and (lo_strict or hi_strict)):
                    return f"{field} {lo_text} and {hi_text} can never both hold"
    return None


def _d(d: timedelta) -> str:
    return fmt_duration(d)
