"""Base class of the registered actions: an action kind is one class.

The class holds everything about its kind: how it is built from YAML (``Params``, ``schema``,
``build``), and every rule the engine applies to it, as class attributes and hooks:

- planning: ``order`` (plan order), ``is_destructive(params)``, ``lifecycle``/``rank`` (conflicts on
  one resource), ``analysis_phase``, ``shares_storage``, ``records_handoff``, ``destinations``, and
  the planner steps ``plan_data`` / ``plan_analysis`` / ``plan_whole`` (given an
  ``orch.engine.step.PolicyStep``);
- showing: ``marker``, ``planned_phrase``, ``done_phrase``, ``display``, ``details``, ``summary_note``;
- applying: ``executor_for(resource_kind)`` and ``unneeded``.

The engine reads these through ``orch.engine.kinds``; no engine module keeps a table of action names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from orch.errors import ConfigError
from orch.matchers.base import BuildContext, Path
from orch.registry import ActionSpec, Matcher

if TYPE_CHECKING:
    from orch.engine.executors import Executor
    from orch.engine.plan import ActionResult, PlannedAction
    from orch.engine.step import Candidate, PolicyStep
    from orch.inventory import IcaAnalysis, IcaData


@dataclass(frozen=True)
class NoParams:
    pass


class BaseAction:
    name: ClassVar[str]
    Params: ClassVar[type] = NoParams
    #: may be written as a bare word (``delete``); true when every param has a default
    bare: ClassVar[bool] = True
    resource_kinds: ClassVar[frozenset[str]] = frozenset()
    destructive: ClassVar[bool] = False
    #: the reference's "destructive" cell when ``destructive`` alone does not say it
    destructive_doc: ClassVar[str] = ""
    schema: ClassVar[dict[str, Any]] = {"type": ["object", "null"], "additionalProperties": False,
                                       "maxProperties": 0}
    description: ClassVar[str] = ""
    #: lint: the kind needs ``for_each`` (the message says why: "NAME WHY: the policy needs for_each")
    needs_for_each: ClassVar[str] = ""

    # ------------------------------------------------------------ planning
    #: rank in plan order and in summaries (hand-off flow first, destructive last)
    order: ClassVar[int] = 1000
    #: changes the storage state of data: one per resource (``rank`` decides which), reaches everything
    #: under an ICA folder (protect check), waits for this plan's hand-off of data under it
    lifecycle: ClassVar[bool] = False
    #: which lifecycle action wins on one resource (a destructive one wins over every other)
    rank: ClassVar[int] = 0
    #: in an ``ica.analysis`` policy: 1 with the selected files (or the analysis), 2 after the links
    #: (they depend on them), 3 last (depends on everything planned for the analysis)
    analysis_phase: ClassVar[int] = 1
    #: the result shares the source's storage (a link): lifecycle actions on the source wait for it
    shares_storage: ClassVar[bool] = False
    #: done means the hand-off is recorded in the ledger (never planned without the rest of it)
    records_handoff: ClassVar[bool] = False

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> ActionSpec | None:
        """``value`` is the mapping under the action's key (None for the bare word)."""
        return ActionSpec(cls.name, cls.Params())

    @classmethod
    def is_destructive(cls, params: Mapping[str, Any]) -> bool:
        """Destructive with these params (a plan action's ``params``, or ``ActionSpec.values()``)?"""
        return cls.destructive

    @classmethod
    def policy_problem(cls, params: Any, resource: str, for_each: bool) -> tuple[str, str] | None:
        """Lint: (param name, why) when these params do not fit the policy's resource (or for_each)."""
        return None

    @classmethod
    def destinations(cls, params: Any) -> dict[str, str]:
        """ICA projects the action writes into, by param name (checked against the scope)."""
        return {}

    @classmethod
    def plan_data(cls, step: "PolicyStep", spec: ActionSpec, c: "Candidate",
                  filters: list[Matcher]) -> "PlannedAction | None":
        """The action on one data candidate (``filters``: what selected it, for reason and fingerprint)."""
        step.error(f"action {spec.name} cannot act on {c.resource.kind} (skipped)")
        return None

    @classmethod
    def plan_analysis(cls, step: "PolicyStep", spec: ActionSpec, analysis: "IcaAnalysis",
                      files: "list[IcaData]", planned: "list[PlannedAction]") -> "list[PlannedAction]":
        """The actions for one selected analysis of an ``ica.analysis`` policy: by default the data
        action on each file ``for_each`` selected. ``planned``: what earlier phases planned for it.
        Raise ``HandoffBlocked`` to hold the analysis's whole hand-off back."""
        from orch.engine.reasons import alabel
        from orch.engine.step import Candidate

        fe = step.policy.for_each
        if fe is None:
            return []
        out = []
        for f in files:
            act = cls.plan_data(step, spec, Candidate(f, analysis, f"output file of analysis {alabel(analysis)}"),
                                fe.filters)
            if act is not None:
                out.append(act)
        return out

    @classmethod
    def prefetch(cls, step: "PolicyStep", spec: ActionSpec, files: "list[IcaData]") -> None:
        """Batch reads before ``plan_analysis`` runs per analysis (``files``: every selected file)."""

    @classmethod
    def plan_whole(cls, step: "PolicyStep", spec: ActionSpec,
                   actions: "list[PlannedAction]") -> "PlannedAction | None":
        """For policies on the whole plan (``bssh.trash``): the action, given the reconciled plan."""
        return None

    # ------------------------------------------------------------ showing
    #: ``+`` adds, ``~`` changes the storage tier (a destructive action shows ``!`` whatever this says)
    marker: ClassVar[str] = "+"
    #: summary phrases; ``{n}`` count, ``{s}`` plural s
    planned_phrase: ClassVar[str] = ""
    done_phrase: ClassVar[str] = ""

    @classmethod
    def phrase(cls, n: int, done: bool = False) -> str:
        text = (cls.done_phrase if done else cls.planned_phrase) or "{n} " + cls.name
        return text.format(n=n, s="" if n == 1 else "s")

    @classmethod
    def display(cls, params: Mapping[str, Any]) -> str:
        """The action as the table and apply lines show it."""
        return cls.name

    @classmethod
    def details(cls, params: Mapping[str, Any], short: bool = False) -> str:
        """The params that matter to a reviewer, in a few words ("" when none); ``short``: for a table cell."""
        return ""

    @classmethod
    def summary_note(cls, params: list[Mapping[str, Any]]) -> str:
        """Appended to the summary phrase of the kind's actions (``params``: one per action)."""
        return ""

    # ------------------------------------------------------------ applying
    @classmethod
    def executor_for(cls, resource_kind: str) -> "Executor":
        raise ConfigError(f"no executor for {cls.name} on {resource_kind}")

    @classmethod
    def unneeded(cls, action: "PlannedAction", dependencies: "list[ActionResult]") -> str | None:
        """Why the action is skipped given its dependencies' results (None: run it)."""
        return None
