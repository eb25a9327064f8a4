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

The planner keeps the run and the per-policy flow; the concerns live beside it: relations.py
(``from.via``), handoff.py (analysis policies), the action classes' planner steps (orch/actions,
given a step.py ``PolicyStep``), lifecycle.py (the storage step), reconcile.py, fingerprint.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from orch.engine.context import PlanContext
from orch.engine.evaluate import evaluate, split_cheap  # noqa: F401  (evaluate: also for callers)
from orch.engine.crossgroup import CrossGroupGuard
from orch.engine.handoff import drop_held_records, plan_handoffs
from orch.engine.kinds import need, policy_is_destructive
from orch.engine.limits import LimitExceeded, Protect, check_max_resources
from orch.engine.plan import Plan, PlanIssue, PolicyFileRef, ResourceRef
from orch.engine.reasons import label
from orch.engine.reconcile import reconcile
from orch.engine.relations import reached
from orch.engine.step import Candidate, PolicyFailed, PolicyPlan, PolicyStep, protected_why
from orch.errors import AuthError, ConfigError, OrchError
from orch.inventory import IcaAnalysis, Resource
from orch.policy.model import Policy, PolicyFile, PolicySet

WHOLE_PLAN_KINDS = frozenset({"bssh.trash"})  # policies planned from the reconciled plan, not from resources


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
        self.held: dict[tuple[str, str], str] = {}  # (group, analysis id) → the policy that held its hand-off back
        self.cross_group = CrossGroupGuard(ctx.ledger, ctx.now)  # other groups' hand-offs in the shared ledger

    # -- entry point
    def run(self) -> PlanOutcome:
        results: dict[str, PolicyPlan] = {}
        for pf in self.policies.files:
            for policy in pf.policies:
                if not policy.enabled or policy.resource in WHOLE_PLAN_KINDS:
                    continue
                results[policy.name] = self._plan_policy(pf, policy)
        actions = [a for r in results.values() for a in r.actions]
        actions = reconcile(drop_held_records(self, actions), self.order, self.notes)
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
        ctx, policy, pp = self.ctx, step.policy, step.pp
        candidates = self._candidates(step)
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
                step.fail(exc, f"cannot evaluate {c.resource.kind} {label(c.resource)}")
        pp.selected = len(selected)
        check_max_resources(policy, pp.selected, pp.population)
        if policy.resource == "ica.analysis":
            plan_handoffs(step, selected)
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

    def _candidates(self, step: PolicyStep) -> list[Candidate]:
        """What the policy considers: its project's analyses or data, the BaseSpace datasets of the scope,
        the BaseSpace runs, or (``from``) what a relation reaches from analyses (relations.py)."""
        ctx, policy = self.ctx, step.policy
        kind = policy.resource
        if policy.source is not None:
            return reached(step)
        if kind == "ica.analysis":
            return [Candidate(a) for a in ctx.analyses(ctx.project(policy.project).id)]
        if kind == "ica.data":
            project = ctx.project(policy.project)
            return [Candidate(d) for d in sorted(ctx.ica.list_data(project.id), key=lambda d: d.path)]
        if kind == "bssh.dataset":
            by_name = ctx.bssh_projects()
            ids = sorted({p.id for n in step.pf.scope.bssh_projects for p in by_name.get(n, [])})
            ctx.prefetch_datasets(ids)
            return [Candidate(d, via=f"dataset of BaseSpace project {d.project_id}")
                    for pid in ids for d in ctx.datasets(pid)]
        if kind == "bssh.run":
            return [Candidate(r, via="run of the BaseSpace account") for r in ctx.runs()]
        raise PolicyFailed(f"resource {kind} is not supported without from")

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

def build_plan(policies: PolicySet, ctx: PlanContext, protect: Protect | None = None) -> PlanOutcome:
    return Planner(policies, ctx, protect).run()
