"""Base class of the registered actions: typed params built from YAML. Execution is the engine's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from orch.matchers.base import BuildContext, Path
from orch.registry import Action, ActionSpec


@dataclass(frozen=True)
class NoParams:
    pass


class BaseAction(Action):
    Params: ClassVar[type] = NoParams
    #: may be written as a bare word (``delete``); true when every param has a default
    bare: ClassVar[bool] = True
    #: params that are per-resource templates (rendered by the planner, not at load time)
    template_fields: ClassVar[tuple[str, ...]] = ()
    schema: ClassVar[dict[str, Any]] = {"type": ["object", "null"], "additionalProperties": False,
                                       "maxProperties": 0}

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> ActionSpec | None:
        """``value`` is the mapping under the action's key (None for the bare word)."""
        return ActionSpec(cls.name, cls.Params())

    @classmethod
    def is_destructive(cls, params: Any) -> bool:
        return cls.destructive
