"""What an action kind's planner step works with: the policy being planned and the run's services.

The planner (planner.py) builds one ``PolicyStep`` per policy and hands it to the hooks of the
policy's action classes (``plan_data``, ``plan_analysis``, ``plan_whole``). A step emits actions
only through ``make``, which refuses anything outside the file's scope or on the protect list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from orch.engine.fingerprint import BASE_FIELDS, decision_fingerprint
from orch.engine.plan import PlannedAction, ReachedFrom, ResourceRef
from orch.engine.reasons import filter_fields, label
from orch.errors import OrchError
from orch.inventory import IcaAnalysis, IcaData, Resource
from orch.policy.model import Policy, PolicyFile
from orch.policy.render import render_for_resource
from orch.registry import Matcher

if TYPE_CHECKING:
    from orch.engine.context import PlanContext
    from orch.engine.planner import Planner


@dataclass
class Candidate:
    resource: Resource
    analysis: IcaAnalysis | None = None  # the analysis it was reached from
    via: str = ""  # how: "output folder", "dataset of BaseSpace project X named by bsshoutput.json", ...
    reached_from: ReachedFrom | None = None  # every analysis reaching it (from: relations)


@dataclass
class PolicyPlan:
    """What one policy contributed."""

    policy: Policy
    actions: list[PlannedAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    transit: list[str] = field(default_factory=list)  # resources left alone: archive work in flight
    population: int = 0
    selected: int = 0


class HandoffBlocked(Exception):
    """A part of one analysis's hand-off cannot be planned: none of it is (a hand-off is whole or not at all)."""


class PolicyFailed(Exception):
    """The policy fails closed (message: one sentence)."""


class PolicyStep:
    """One policy of one planning run."""

    def __init__(self, planner: "Planner", pf: PolicyFile, policy: Policy, pp: PolicyPlan, destructive: bool):
        self.planner = planner
        self.pf = pf
        self.policy = policy
        self.pp = pp
        self.destructive = destructive

    @property
    def ctx(self) -> "PlanContext":
        return self.planner.ctx

    @property
    def group(self) -> str:
        """The group the policy acts for (its file's)."""
        return self.policy.group or self.pf.group

    # -- reporting
    def note(self, text: str) -> None:
        """A note under the policy's name (``policy: text``), listed with the plan."""
        self.pp.notes.append(text)

    def refused(self, action: str, r: Resource, why: str) -> None:
        """``policy: ACTION of KIND LABEL not planned: WHY`` (the run's notes)."""
        self.planner.notes.append(f"{self.policy.name}: {action} of {r.kind} {label(r)} not planned: {why}")

    def error(self, text: str) -> None:
        self.pp.errors.append(text)

    def in_transit(self, text: str) -> None:
        self.pp.transit.append(text)

    def fail(self, exc: Exception, what: str) -> None:
        """A read for one resource failed: a destructive policy stops; others skip the resource."""
        self.planner.fail(self.pp, self.destructive, exc, what)

    def hold(self, analysis_id: str) -> None:
        """This policy held the analysis's hand-off back: no policy of its group records it as handed off
        this run (the record is per group)."""
        self.planner.held.setdefault((self.group, analysis_id), self.policy.name)

    # -- templates and scope
    def render(self, template: str, analysis: IcaAnalysis | None, resource: Resource) -> str:
        """A per-resource template (raises TemplateError)."""
        return render_for_resource(template, self.pf.vars, analysis=analysis, resource=resource)

    def in_scope(self, project_name: str) -> bool:
        return project_name in self.pf.scope.ica_projects

    # -- services of the run
    def linked(self, dest_id: str, f: Resource) -> bool:
        """Is the file already present in the destination project? Hand-off policies look up every
        selected file of the policy in one batch (``prefetch_presence``) before emitting; others ask per file."""
        known = self.planner.present.get((self.policy.name, dest_id))
        if known is not None and f.id in known[0]:
            return f.id in known[1]
        return f.id in self.ctx.data_by_ids(dest_id, [f.id])

    def prefetch_presence(self, dest_id: str, files: Iterable[IcaData]) -> None:
        ids = sorted({f.id for f in files})
        if ids:
            self.planner.present[(self.policy.name, dest_id)] = (set(ids), set(self.ctx.data_by_ids(dest_id, ids)))

    def protected(self, r: Resource) -> str:
        return self.planner.protected(r)

    def folder_clear(self, action: str, r: Resource) -> bool:
        """False when ``action`` on an ICA folder would reach something protected by name, id or tag
        under it (or its contents cannot be listed to tell): the action is not planned."""
        protect = self.planner.protect
        if not (isinstance(r, IcaData) and r.is_folder and protect.reaches_inside) or self.protected(r):
            return True  # nothing to look for inside, or make() refuses the folder itself anyway
        try:
            contents = list(self.ctx.contents_under(r.project_id, r.path))
            why = protect.why_inside(r.path, contents)
        except OrchError as exc:
            self.fail(exc, f"cannot list folder {r.path} to check it holds nothing protected")
            return False
        if why:
            self.refused(action, r, why)
            for d in contents:
                inner = self.protected(d) if d.path != r.path else ""
                if inner and (warning := platform_schedule_warning(d, inner)) and warning not in self.planner.notes:
                    self.planner.notes.append(warning)
            return False
        return True

    # -- emitting
    def make(self, action: str, r: Resource, params: dict[str, Any], filters: list[Matcher], reason: str,
             depends_on: Iterable[str] = (), reached_from: ReachedFrom | None = None) -> PlannedAction | None:
        """The planned action, or None (with a note) when its resource is out of scope or protected."""
        pf, policy = self.pf, self.policy
        fields = sorted(filter_fields(filters, r.kind) | BASE_FIELDS.get(r.kind, set()))
        ref = ResourceRef.from_dict(r.ref())
        if reached_from is not None and reached_from.analyses:  # apply re-checks their protection
            ref.extra["reached_from"] = reached_from.to_dict()
        if r.kind.startswith("ica.") and ref.project_id not in self.planner.scope_ids(pf):
            self.refused(action, r, f"its project is outside the scope of {pf.path}")
            return None
        why = self.planner.protected(r, ref) or self.planner.cross_group.why(self.group, pf.vars, action, r,
                                                                               reached_from)
        if why:
            self.refused(action, r, why)
            if warning := platform_schedule_warning(r, why):
                if warning not in self.planner.notes:
                    self.planner.notes.append(warning)
            return None
        return PlannedAction.create(policy=policy.name, group=policy.group or pf.group, action=action, resource=ref,
                                    params=params, reason=reason, fingerprint=decision_fingerprint(r, fields),
                                    depends_on=depends_on, fingerprint_fields=fields)


def platform_schedule_warning(r: Resource, why: str) -> str:
    """A protected ICA file the platform archives or deletes by itself (willBeArchivedAt /
    willBeDeletedAt): protect cannot stop ICA, so say so with the date (issue 9.7)."""
    if not isinstance(r, IcaData):
        return ""
    details = ((r.raw or {}).get("data") or {}).get("details") or {}
    acts = [(verb, details.get(f)) for verb, f in (("delete", "willBeDeletedAt"), ("archive", "willBeArchivedAt"))
            if details.get(f)]
    if not acts:
        return ""
    verb, when = acts[0]
    return (f"warning: {r.path} is protected ({why}), but ICA itself will {verb} it at {when} "
            f"(will{'BeDeleted' if verb == 'delete' else 'BeArchived'}At); protect cannot stop that: clear the date "
            f"on the file in ICA to keep it")


def protected_why(protect: Any, r: Resource, ref: ResourceRef | None = None) -> str:
    """Why the protect list forbids touching ``r`` ("" when it does not); ``ref`` when already built."""
    if not protect:
        return ""
    ref = ref or ResourceRef.from_dict(r.ref())
    return protect.why(ref.to_dict(), r.tags) or ""
