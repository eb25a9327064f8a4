"""The engine's one way to learn what an action kind means: look its class up in the registry.

Every per-kind rule (plan order, destructiveness, conflict rank, phrases, planner step, executor)
is a hook on the registered class (``orch.actions.base.BaseAction``); nothing in the engine keys a
table by action name. The action classes import the engine's toolkit modules (step, lifecycle,
executors, plan model), so the engine imports them lazily, here, at call time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from orch.errors import ConfigError
from orch.registry import actions

if TYPE_CHECKING:
    from orch.actions.base import BaseAction
    from orch.policy.model import Policy


def _registered() -> None:
    import orch.actions  # noqa: F401  (registers the built-in kinds)


def kind(name: str) -> "type[BaseAction] | None":
    """The class of action kind ``name`` (None when no such kind is registered)."""
    _registered()
    return actions.get(name)


def need(name: str) -> "type[BaseAction]":
    cls = kind(name)
    if cls is None:
        raise ConfigError(f"unknown action kind {name!r}")
    return cls


def action_order() -> tuple[str, ...]:
    """Every registered kind in plan order (``order``, then name): sorting, summaries, the plan schema."""
    _registered()
    return tuple(name for name, _cls in sorted(actions.items(), key=lambda kv: (kv[1].order, kv[0])))


def rank_in_order(name: str) -> int:
    order = action_order()
    return order.index(name) if name in order else len(order)


def ordered(names: Iterable[str]) -> list[str]:
    """``names`` in plan order (unknown names last, by name)."""
    names = set(names)
    order = action_order()
    return [k for k in order if k in names] + sorted(n for n in names if n not in order)


def is_destructive(name: str, params: Mapping[str, Any] | None = None) -> bool:
    cls = kind(name)
    return cls is not None and cls.is_destructive(params or {})


def policy_is_destructive(policy: "Policy") -> bool:
    """Any of the policy's actions is destructive (a failed read then fails the whole policy closed)."""
    return any(is_destructive(spec.name, spec.values()) for spec in policy.actions)
