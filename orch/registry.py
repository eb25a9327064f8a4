"""One registry for matchers and actions (after Cloud Custodian's ``c7n/registry.py``).

Each matcher and action is a class registered under its policy name. The class carries
its JSON Schema fragment and its typed parameters; the policy JSON Schema, lint and the
docs are generated from the registry. An action class also carries every per-kind rule the
engine needs (plan order, destructiveness, conflict rank, phrases, its planner step and its
executor: see ``orch.actions.base.BaseAction``), so adding a class is all it takes to add an
action kind; the engine looks kinds up here (``orch.engine.kinds``), never by a table of names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Iterator, Protocol, TypeVar

from orch.inventory import IcaAnalysis, Resource

if TYPE_CHECKING:
    from orch.actions.base import BaseAction

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, T] = {}

    def register(self, name: str):
        def deco(cls: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.what} {name!r} registered twice")
            cls.name = name  # type: ignore[attr-defined]
            self._items[name] = cls
            return cls

        return deco

    def remove(self, name: str) -> None:
        """Unregister ``name`` (tests that register a throwaway kind clean up with this)."""
        self._items.pop(name, None)

    def get(self, name: str) -> T | None:
        return self._items.get(name)

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._items.items()))


class EvalContext(Protocol):
    """What a matcher may consult besides the resource itself (supplied by the planner).

    Reads are lazy and cached for one run. A read that fails raises ApiError: the planner
    then fails the policy closed (nothing destructive is planned from it).
    """

    now: datetime

    def is_managed(self, analysis: IcaAnalysis) -> bool:
        """True when the analysis is recorded in the ledger."""

    def bsshoutput(self, analysis: IcaAnalysis) -> dict[str, Any] | None:
        """Parsed bsshoutput.json of the analysis outputs, or None when there is none."""


class Matcher(ABC):
    """A filter. ``matches`` is pure given the resource and the context."""

    name: ClassVar[str]
    #: resource kinds it applies to; None = any
    resource_kinds: ClassVar[frozenset[str] | None] = None
    #: JSON Schema of the value under the matcher's key
    schema: ClassVar[dict[str, Any]] = {}

    @abstractmethod
    def matches(self, resource: Resource, ctx: EvalContext) -> bool: ...

    @abstractmethod
    def describe(self) -> str:
        """Short human text for plan reasons, e.g. ``startDate older than 90d``."""

    def fields(self, kind: str | None = None) -> set[str]:
        """Resource fields the decision reads on a ``kind`` resource (they go into the action's fingerprint)."""
        return set()


@dataclass
class ActionSpec:
    """One action in a policy: its registered name and typed, rendered parameters."""

    name: str
    params: Any  # an instance of the action class's ``Params`` dataclass

    def values(self) -> dict[str, Any]:
        """The params as the plain mapping the action-kind hooks read (as in a plan's ``params``)."""
        return asdict(self.params) if is_dataclass(self.params) else dict(self.params or {})


matchers: Registry[type[Matcher]] = Registry("matcher")
actions: Registry[type["BaseAction"]] = Registry("action")
