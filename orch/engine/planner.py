"""The planner: policies + the platforms' current state → a reviewed, deterministic Plan.

For each enabled policy it gathers the resources the policy considers (its project, or the
relation ``from.via`` of the analyses ``from.analyses`` selects), keeps those its filters
select (three-valued: only *true* selects), checks ``max_resources``, and emits one action per
selected resource and action spec, each with a reason, a fingerprint of the fields the
decision used and its dependencies. Then policies are reconciled (delete beats archive beats
nothing; the same action is planned once; ``won_over`` names the losers), the BaseSpace trash
purge is attached after the BaseSpace deletes, and the plan is sorted.

Fail closed: a read that fails while a policy with destructive actions is evaluated makes that
policy plan nothing; other policies skip just the resource whose read failed. Either way the
plan carries the error (exit 1). Nothing outside the file's scope and nothing protected is
planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from orch.engine.context import PlanContext, run_folder
from orch.engine.kinds import need, policy_is_destructive
from orch.engine.limits import LimitExceeded, Protect, check_max_resources
from orch.engine.plan import Plan, PlanIssue, PlannedAction, PolicyFileRef, ResourceRef
from orch.engine.reasons import age_note as _age_note
from orch.engine.reasons import alabel as _alabel
from orch.engine.reasons import label as _label
from orch.engine.reconcile import reconcile
from orch.engine.step import Candidate, HandoffBlocked, PolicyFailed, PolicyPlan, PolicyStep, protected_why
from orch.errors import AuthError, ConfigError, OrchError
from orch.inventory import IcaAnalysis, IcaData, Resource
from orch.matchers.analysis import ManagedByMatcher
from orch.policy.model import Policy, PolicyFile, PolicySet
from orch.registry import Matcher

WHOLE_PLAN_KINDS = frozenset({"bssh.trash"})  # policies planned from the reconciled plan, not from resources


# ---------------------------------------------------------------- evaluation helpers
def _expensive(m: Matcher) -> bool:
    """Matchers that need a platform read beyond the resource itself (evaluated last)."""
    walk = getattr(m, "walk", None)
    items = list(walk()) if walk else [m]
    return any(isinstance(x, ManagedByMatcher) for x in items)


def evaluate(filters: Iterable[Matcher], resource: Resource, ctx: PlanContext) -> bool:
    """All filters true (cheap ones first; a false one stops the evaluation)."""
    ordered = sorted(filters, key=_expensive)
    unknown = False
    for m in ordered:
        ev = getattr(m, "evaluate", None)
        r = ev(resource, ctx) if ev else m.matches(resource, ctx)
        if r is False:
            return False
        unknown = unknown or r is None
    return not unknown


def split_cheap(filters: Iterable[Matcher]) -> tuple[list[Matcher], list[Matcher]]:
    filters = list(filters)
    return [m for m in filters if not _expensive(m)], [m for m in filters if _expensive(m)]


@dataclass
class PlanOutcome:
    plan: Plan
    notes: list[str]
    per_policy: dict[str, PolicyPlan]


# ---------------------------------------------------------------- the planner
class Planner:
    def __init__(self, policies: PolicySet, ctx: PlanContext, protect: Protect | None = None):
        self.policies = policies
        self.ctx = ctx
        self.protect = protect or Protect()
        self.order = {p.name: i for i, p in enumerate(policies.policies)}
        self.notes: list[str] = []  # the run's notes (already prefixed with the policy name)
        self._inflight: dict[str, str] | None = None  # BaseSpace id -> latest archive/unarchive by orch
        self.present: dict[tuple[str, str], tuple[set[str], set[str]]] = {}  # (policy, dest) → (asked, found)
        self.held: dict[str, str] = {}  # analysis id → the policy that held its hand-off back this run

    # -- entry point
    def run(self) -> PlanOutcome:
        results: dict[str, PolicyPlan] = {}
        for pf in self.policies.files:
            for policy in pf.policies:
                if not policy.enabled or policy.resource in WHOLE_PLAN_KINDS:
                    continue
                results[policy.name] = self._plan_policy(pf, policy)
        actions = [a for r in results.values() for a in r.actions]
        actions = reconcile(self._drop_held_records(actions), self.order, self.notes)
        for pf in self.policies.files:
            for policy in pf.policies:
                if policy.enabled and policy.resource in WHOLE_PLAN_KINDS:
                    pp = PolicyPlan(policy)
                    step = PolicyStep(self, pf, policy, pp, policy_is_destructive(policy))
                    for spec in policy.actions:
                        act = need(spec.name).plan_whole(step, spec, actions)
                        if act is not None:
                            pp.actions.append(act)
                    results[policy.name] = pp
        whole = [a for r in results.values() if r.policy.resource in WHOLE_PLAN_KINDS for a in r.actions]
        actions = reconcile(actions + whole, self.order, self.notes)
        errors = [PlanIssue(name, msg) for name, r in results.items() for msg in r.errors]
        notes = [f"{name}: {n}" for name, r in results.items() for n in r.notes] + self.notes
        for name, r in results.items():
            if r.transit:
                shown = ", ".join(sorted(set(r.transit))[:3]) + (", ..." if len(set(r.transit)) > 3 else "")
                notes.append(f"{name}: {len(set(r.transit))} in transit, left alone this run: {shown}")
        plan = Plan.create(now=self.ctx.now, actions=actions,
                           policy_files=[PolicyFileRef(f.path, f.sha256) for f in self.policies.files],
                           vars=self.policies.vars, errors=errors)
        return PlanOutcome(plan, notes, results)

    # -- one policy
    def _plan_policy(self, pf: PolicyFile, policy: Policy) -> PolicyPlan:
        pp = PolicyPlan(policy)
        destructive = policy_is_destructive(policy)
        try:
            self._gather(PolicyStep(self, pf, policy, pp, destructive))
        except (AuthError, ConfigError):
            raise  # wrong credentials or settings: nothing can be planned, say so once
        except (OrchError, PolicyFailed, LimitExceeded) as exc:
            pp.actions = []
            msg = str(exc)
            if destructive and isinstance(exc, OrchError):
                msg += "; failing closed: nothing is planned from this policy"
            pp.errors.append(msg)
            return pp
        if pp.errors and destructive:
            pp.actions = []
            pp.errors.append("failing closed: a read this policy's destructive decisions depend on failed, "
                             "so nothing is planned from it")
        return pp

    def fail(self, pp: PolicyPlan, destructive: bool, exc: Exception, what: str) -> None:
        """A read for one resource failed: a destructive policy stops; others skip the resource."""
        if isinstance(exc, (AuthError, ConfigError)):
            raise exc
        if destructive:
            raise PolicyFailed(f"{what}: {exc}; failing closed: nothing is planned from this policy")
        pp.errors.append(f"{what}: {exc} (skipped)")

    def _gather(self, step: PolicyStep) -> None:
        ctx, pf, policy, pp, destructive = self.ctx, step.pf, step.policy, step.pp, step.destructive
        candidates = self._candidates(pf, policy, pp, destructive)
        pp.population = len(candidates)
        cheap, costly = split_cheap(policy.filters)
        survivors = [c for c in candidates if evaluate(cheap, c.resource, ctx)] if cheap else list(candidates)
        if costly:
            ctx.prefetch_output_folders(c.resource for c in survivors if isinstance(c.resource, IcaAnalysis))
        selected: list[Candidate] = []
        for c in survivors:
            try:
                if evaluate(costly, c.resource, ctx):
                    selected.append(c)
            except OrchError as exc:
                step.fail(exc, f"cannot evaluate {c.resource.kind} {_label(c.resource)}")
        pp.selected = len(selected)
        check_max_resources(policy, pp.selected, pp.population)
        if policy.resource == "ica.analysis":
            self._emit_analysis_actions(step, selected)
            limit = policy.limits.max_count if policy.limits else None
            files = {a.resource.id for a in pp.actions if "ica.data" in need(a.action).resource_kinds}
            if policy.for_each is not None and limit is not None and len(files) > limit:
                # max_resources bounds what is acted on: with for_each that is files, not analyses
                raise LimitExceeded(f"acts on {len(files)} files of its {pp.selected} analyses, more than its "
                                    f"max_resources count of {limit}; nothing from this policy is planned")
        else:
            for c in selected:
                for spec in policy.actions:
                    a = need(spec.name).plan_data(step, spec, c, policy.filters)
                    if a is not None:
                        pp.actions.append(a)

    def _analyses(self, project_name: str) -> list[IcaAnalysis]:
        project = self.ctx.project(project_name)
        return self.ctx.analyses(project.id)

    def _candidates(self, pf: PolicyFile, policy: Policy, pp: PolicyPlan, destructive: bool) -> list[Candidate]:
        ctx = self.ctx
        kind = policy.resource
        if policy.source is None:
            if kind == "ica.analysis":
                return [Candidate(a) for a in self._analyses(policy.project)]
            if kind == "ica.data":
                project = ctx.project(policy.project)
                return [Candidate(d) for d in sorted(ctx.ica.list_data(project.id), key=lambda d: d.path)]
            if kind == "bssh.dataset":
                by_name = ctx.bssh_projects()
                ids = sorted({p.id for n in pf.scope.bssh_projects for p in by_name.get(n, [])})
                ctx.prefetch_datasets(ids)
                return [Candidate(d, via=f"dataset of BaseSpace project {d.project_id}")
                        for pid in ids for d in ctx.datasets(pid)]
            if kind == "bssh.run":
                return [Candidate(r, via="run of the BaseSpace account") for r in ctx.runs()]
            raise PolicyFailed(f"resource {kind} is not supported without from")
        # from: analyses → relation
        src = policy.source
        if self.ctx.project(src.analyses.project).id not in self.scope_ids(pf):
            pp.notes.append(f"ICA project {src.analyses.project!r} is outside the scope of {pf.path}; nothing is "
                            f"considered from it")
            return []
        analyses = self._analyses(src.analyses.project)
        cheap, costly = split_cheap(src.analyses.filters)
        chosen = [a for a in analyses if evaluate(cheap, a, ctx)]
        needs_folder = bool(costly) or src.via in ("outputs", "output_folder", "bsshoutput_projects")
        if needs_folder:
            ctx.prefetch_output_folders(chosen)
        picked: list[IcaAnalysis] = []
        for a in chosen:
            try:
                if evaluate(costly, a, ctx):
                    picked.append(a)
            except OrchError as exc:
                self.fail(pp, destructive, exc, f"cannot evaluate analysis {_alabel(a)}")
        out: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        # protecting an analysis protects what is reached from it (its outputs, datasets, run), also
        # when another analysis reaches the same resource
        # protecting an analysis protects what is reached from it (its outputs, datasets, run), also when
        # another analysis reaches the same resource, and whether or not this policy's filters pick it
        shielded = {a.id: why for a in analyses if (why := self.protected(a))}
        blocked: dict[tuple[str, str], IcaAnalysis] = {}
        for a in picked:
            if a.id in shielded:
                self.notes.append(f"{policy.name}: nothing reached from analysis {_alabel(a)} ({src.via}) is "
                                   f"planned: {shielded[a.id]}")
        picked = picked + [a for a in analyses if a.id in shielded and a not in picked]  # their reach, to block

        reachers: dict[tuple[str, str], dict[str, Any]] = {}
        source_id = self.ctx.project(src.analyses.project).id

        def add(res: Resource, a: IcaAnalysis, via: str) -> None:
            key = (res.kind, res.id)
            if a.id in shielded:
                blocked.setdefault(key, a)
                return
            reach = reachers.setdefault(key, {"project_id": source_id, "analyses": []})
            if a.id not in reach["analyses"]:
                reach["analyses"].append(a.id)
            if key not in seen:
                seen.add(key)
                out.append(Candidate(res, a, via, reach))

        if src.via == "outputs":
            listed = ctx.map(ctx.output_files, picked)
            for a, files in zip(picked, listed):
                if isinstance(files, OrchError):
                    self.fail(pp, destructive, files, f"cannot list the outputs of analysis {_alabel(a)}")
                    continue
                for f in files:
                    add(f, a, f"output file of analysis {_alabel(a)}" + self._why(a, src.analyses.filters))
        elif src.via == "output_folder":
            for a in picked:
                try:
                    folder = ctx.output_folder(a)
                except OrchError as exc:
                    self.fail(pp, destructive, exc, f"cannot read the output folder of analysis {_alabel(a)}")
                    continue
                if folder is not None:
                    add(folder, a, f"output folder of analysis {_alabel(a)}" + self._why(a, src.analyses.filters))
        elif src.via == "bsshoutput_projects":
            in_scope = self._bssh_scope(pf)
            plan_for: list[tuple[IcaAnalysis, str, str]] = []
            for a in picked:
                try:
                    names = ctx.bsshoutput_project_names(a)
                    by_name = ctx.bssh_projects() if names else {}
                except OrchError as exc:
                    self.fail(pp, destructive, exc, f"cannot read bsshoutput.json of analysis {_alabel(a)}")
                    continue
                for name in names:
                    if not in_scope(name):
                        pp.notes.append(f"BaseSpace project {name!r} (named by analysis {_alabel(a)}) is outside "
                                        f"the scope; not considered")
                        continue
                    projects = by_name.get(name, [])
                    if not projects:
                        pp.notes.append(f"BaseSpace project {name!r} named by bsshoutput.json of analysis "
                                        f"{_alabel(a)} does not exist")
                    for p in sorted(projects, key=lambda p: p.id):
                        plan_for.append((a, name, p.id))
            ctx.prefetch_datasets(pid for _a, _n, pid in plan_for)
            for a, name, pid in plan_for:
                try:
                    datasets = ctx.datasets(pid)
                except OrchError as exc:
                    self.fail(pp, destructive, exc, f"cannot list the datasets of BaseSpace project {name}")
                    continue
                for d in datasets:
                    add(d, a, f"dataset of BaseSpace project {name}, named by bsshoutput.json of analysis "
                              f"{_alabel(a)}" + self._why(a, src.analyses.filters))
        elif src.via == "run":
            by_name = ctx.runs_by_name() if picked else {}
            for a in picked:
                folder = run_folder(a.user_reference)
                for r in by_name.get(folder, []) if folder else []:
                    add(r, a, f"run {folder} of analysis {_alabel(a)}" + self._why(a, src.analyses.filters))
        else:
            raise PolicyFailed(f"unknown relation via: {src.via}")
        kept = []
        for c in out:
            by = blocked.get((c.resource.kind, c.resource.id))
            if by is None:
                kept.append(c)
            else:
                self.notes.append(f"{policy.name}: {c.resource.kind} {_label(c.resource)} not considered: protected "
                                   f"analysis {_alabel(by)} reaches it too ({shielded[by.id]})")
        return kept

    def _why(self, a: IcaAnalysis, filters: list[Matcher]) -> str:
        """`` (FAILED, startDate 2026-08-17, 100.0 days ago)``: what selected the analysis, briefly."""
        age = _age_note(filters, a, self.ctx.now)
        return f" ({a.status}" + (f", {age})" if age else ")")

    def _bssh_scope(self, pf: PolicyFile):
        explicit = set(pf.scope.bssh_projects)
        from_output = pf.scope.bssh_from_bsshoutput
        return lambda name: from_output or name in explicit

    # -- actions on analyses (hand-off)
    def _emit_analysis_actions(self, step: PolicyStep, selected: list[Candidate]) -> None:
        """Per selected analysis, its kinds' ``plan_analysis`` by ``analysis_phase`` (files first, then
        what follows the links, then the record); a hand-off is whole or not at all."""
        ctx, pf, policy, pp = self.ctx, step.pf, step.policy, step.pp
        kinds = [(need(spec.name), spec) for spec in policy.actions]
        outside = [to for cls, spec in kinds for to in cls.destinations(spec.params).values() if not step.in_scope(to)]
        if outside and any(cls.records_handoff for cls, _spec in kinds):
            pp.errors.append(f"destination {outside[0]!r} is outside the scope of {pf.path}; no hand-off of this "
                             f"policy is planned (never a ledger record without its links and manifest)")
            for c in selected:
                step.hold(c.resource.id)
            return
        analyses = [c.resource for c in selected]
        files_of: dict[str, list[IcaData]] = {}
        fe = policy.for_each
        if fe is not None:
            ctx.prefetch_output_folders(analyses)
            listed = ctx.map(ctx.output_files, analyses)
            for a, files in zip(analyses, listed):
                if isinstance(files, OrchError):
                    step.fail(files, f"cannot list the outputs of analysis {_alabel(a)}")
                    continue
                if not fe.recursive:
                    folder = ctx.output_folder(a)
                    files = [f for f in files if folder and f.path.rsplit("/", 1)[0] + "/" == folder.path]
                chosen = []
                for f in files:
                    try:
                        if evaluate(fe.filters, f, ctx):
                            chosen.append(f)
                    except OrchError as exc:
                        step.fail(exc, f"cannot evaluate file {f.path}")
                files_of[a.id] = sorted(chosen, key=lambda f: f.path)
            every_file = [f for files in files_of.values() for f in files]
            for cls, spec in kinds:
                cls.prefetch(step, spec, every_file)
        phases = sorted({cls.analysis_phase for cls, _spec in kinds})
        for a in analyses:
            if fe is not None and a.id not in files_of:
                step.hold(a.id)
                continue  # its outputs could not be read (reported)
            files = files_of.get(a.id, [])
            partial = [f for f in files if f.status == "PARTIAL"]
            if partial:  # still being written: hand off nothing of it yet (never half a hand-off)
                pp.notes.append(f"analysis {_alabel(a)}: {len(partial)} selected file(s) still PARTIAL "
                                f"(e.g. {partial[0].name}); its hand-off waits for a later run")
                step.hold(a.id)
                continue
            guarded = [(f, why) for f in files if (why := self.protected(f))]
            if guarded:  # a hand-off is whole or not at all: never a manifest or ledger record without a file
                f, why = guarded[0]
                pp.notes.append(f"analysis {_alabel(a)}: {len(guarded)} selected file(s) are protected "
                                f"(e.g. {f.name}: {why}); its hand-off is held back until they are "
                                f"unprotected or no longer selected")
                step.hold(a.id)
                continue
            mine: list[PlannedAction] = []
            try:
                for phase in phases:
                    for cls, spec in kinds:
                        if cls.analysis_phase == phase:
                            mine.extend(cls.plan_analysis(step, spec, a, files, mine))
            except HandoffBlocked as exc:  # never links and a ledger record without the manifest
                pp.errors.append(f"{exc}; the hand-off of analysis {_alabel(a)} is held back (no link, manifest "
                                 f"or ledger record) until this is fixed")
                step.hold(a.id)
                continue
            pp.actions.extend(mine)

    # -- services the policy steps use (orch/engine/step.py)
    def bssh_inflight(self) -> dict[str, str]:
        """BaseSpace id → the latest archive/unarchive orch requested within the async window ({} without a ledger)."""
        if self.ctx.ledger is None:
            return {}
        if self._inflight is None:
            self._inflight = self.ctx.ledger.bssh_requests(self.ctx.now)  # audit times: the run clock
        return self._inflight

    def scope_ids(self, pf: PolicyFile) -> set[str]:
        """Ids of the file's ICA scope projects (names that do not resolve are simply not in it)."""
        ids = set()
        for name in pf.scope.ica_projects:
            try:
                ids.add(self.ctx.project(name).id)
            except OrchError:
                continue
        return ids

    def protected(self, r: Resource, ref: ResourceRef | None = None) -> str:
        """Why the protect list forbids touching ``r`` ("" when it does not); ``ref`` when already built."""
        return protected_why(self.protect, r, ref)

    def _drop_held_records(self, actions: list[PlannedAction]) -> list[PlannedAction]:
        """The ledger record is per analysis: when one policy held an analysis's hand-off back, no other
        policy may record it as handed off in this run, or the held-back hand-off is never retried."""
        out = []
        for a in actions:
            held_by = self.held.get(a.resource.id) if need(a.action).records_handoff else None
            if held_by is not None and held_by != a.policy:
                self.notes.append(f"{a.policy}: {a.action} of analysis {a.resource.label()} not planned: "
                                  f"{held_by} held its hand-off back this run (the record waits for both)")
                continue
            out.append(a)
        return out


def build_plan(policies: PolicySet, ctx: PlanContext, protect: Protect | None = None) -> PlanOutcome:
    return Planner(policies, ctx, protect).run()
