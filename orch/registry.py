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

    def is_managed(self, analysis: IcaAnalysis, group: str | None = None) -> bool:
        """True when the analysis's hand-off is recorded in the ledger (by ``group``; None: by any)."""

    def bsshoutput(self, analysis: IcaAnalysis) -> Any:
        """The analysis outputs' bsshoutput.json (``orch.engine.context.BsshOutput``: ``doc`` or ``error``),
        or None when there is none."""


class Matcher(ABC):
    """A filter: one base class for every matcher (``orch.matchers.base.BaseMatcher`` adds building).

    ``evaluate`` is three-valued (True, False, None = unknown: fails closed); ``matches`` is
    ``evaluate(...) is True``. ``cost`` says whether evaluating needs a platform read beyond the
    resource itself (the planner evaluates those last, after a batch prefetch); ``explain`` adds
    what a reviewer wants to see in the reason (e.g. an age in days).
    """

    name: ClassVar[str]
    #: resource kinds it applies to; None = any
    resource_kinds: ClassVar[frozenset[str] | None] = None
    #: JSON Schema of the value under the matcher's key
    schema: ClassVar[dict[str, Any]] = {}
    #: "local": decided from the resource (and the ledger); "read": needs a platform read
    cost: ClassVar[str] = "local"

    @abstractmethod
    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None: ...

    def matches(self, resource: Resource, ctx: EvalContext) -> bool:
        return self.evaluate(resource, ctx) is True

    @abstractmethod
    def describe(self) -> str:
        """Short human text for plan reasons, e.g. ``startDate older than 90d``."""

    def children(self) -> list["Matcher"]:
        return []

    def walk(self) -> Iterator["Matcher"]:
        """This matcher and every matcher inside it."""
        yield self
        for child in self.children():
            yield from child.walk()

    def fields(self, kind: str | None = None) -> set[str]:
        """Resource fields the decision reads on a ``kind`` resource (they go into the action's fingerprint)."""
        out: set[str] = set()
        for child in self.children():
            out |= child.fields(kind)
        return out

    def explain(self, resource: Resource, now: datetime) -> str:
        """What the reason shows about this resource beyond ``describe`` ("" for nothing)."""
        return ""


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
