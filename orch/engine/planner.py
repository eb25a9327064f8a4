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

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from orch.engine.context import PlanContext, run_folder
from orch.engine.limits import LimitExceeded, Protect, check_max_resources, resource_tags
from orch.engine.plan import Plan, PlanIssue, PlannedAction, PolicyFileRef, ResourceRef, fingerprint
from orch.engine.reconcile import LIFECYCLE, reconcile
from orch.errors import ApiError, AuthError, ConfigError, NotFound, OrchError
from orch.inventory import BsshDataset, BsshRun, IcaAnalysis, IcaData, Resource, normalise_analysis_status
from orch.matchers.age import AgeMatcher
from orch.matchers.analysis import ManagedByMatcher
from orch.policy.model import Policy, PolicyFile, PolicySet
from orch.policy.render import TemplateError, render_for_resource
from orch.registry import Matcher
from orch.timeutil import format_ts, parse_ts

DATA_ACTIONS = frozenset({"link", "archive", "unarchive", "delete", "tag"})
IN_TRANSIT = frozenset({"ARCHIVING", "UNARCHIVING", "DELETING", "PARTIAL"})
BASE_FIELDS = {"ica.data": {"status", "path"}, "bssh.dataset": {"IsArchived"}, "bssh.run": {"IsArchived", "Status"},
               "ica.analysis": {"status"}}
TERMINAL_RUN = frozenset({"Complete", "Stopped", "Failed"})
TRASH_REF = ResourceRef(kind="bssh.trash", id="trash", name="BaseSpace trash")


# ---------------------------------------------------------------- fingerprints
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _canonical_value(value: Any) -> Any:
    """Timestamps as one UTC spelling (a re-read may format them differently), statuses upper-case."""
    if isinstance(value, str) and _ISO.match(value):
        try:
            return format_ts(parse_ts(value))
        except ValueError:
            return value
    return value


def decision_fingerprint(resource: Resource, fields: Iterable[str]) -> str:
    """``fingerprint`` of the fields a decision used, read from the resource as the matchers read them.

    Analysis status is compared in the V3 spelling; timestamps in one UTC spelling. The applier
    recomputes this from a fresh read and refuses the action when it differs (stale plan).
    """
    values: dict[str, Any] = {}
    for f in sorted(set(fields)):
        v = resource.attr(f, None)
        if f == "status" and isinstance(resource, IcaAnalysis) and isinstance(v, str):
            v = normalise_analysis_status(v)
        values[f] = _canonical_value(v)
    return fingerprint(values)


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


def describe(filters: Iterable[Matcher]) -> str:
    return ", ".join(m.describe() for m in filters)


def _fields(filters: Iterable[Matcher]) -> set[str]:
    out: set[str] = set()
    for m in filters:
        out |= set(m.fields())
    return out


def user_tags(r: Resource) -> list[str]:
    """The user tags of an ICA analysis or data item (what the ``tag`` action adds)."""
    tags = r.attr("tags.userTags", None)
    return [str(t) for t in tags] if isinstance(tags, list) else []


def _age_note(filters: Iterable[Matcher], resource: Resource, now: datetime) -> str:
    """``startDate 2026-07-01T09:00:00Z, 147.1 days before now`` for the age fields used."""
    seen: set[str] = set()
    notes = []
    for m in filters:
        for sub in (m.walk() if hasattr(m, "walk") else [m]):
            if isinstance(sub, AgeMatcher) and sub.params.field not in seen:
                seen.add(sub.params.field)
                age = sub.age(resource, now)
                if age is not None:
                    day = (now - age).strftime("%Y-%m-%d")
                    notes.append(f"{sub.params.field} {day}, {age.total_seconds() / 86400:.1f} days ago")
    return "; ".join(notes)


def policy_is_destructive(policy: Policy) -> bool:
    for spec in policy.actions:
        if spec.name in ("delete", "purge_trash"):
            return True
        if spec.name == "unarchive" and getattr(spec.params, "then", None) == "delete":
            return True
    return False


# ---------------------------------------------------------------- candidates
@dataclass
class Candidate:
    resource: Resource
    analysis: IcaAnalysis | None = None  # the analysis it was reached from
    via: str = ""  # how: "output folder", "dataset of BaseSpace project X named by bsshoutput.json", ...
    reached_from: dict[str, Any] = field(default_factory=dict)  # {project_id, analyses: every id reaching it}


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
        self._notes: list[str] = []
        self._inflight: dict[str, str] | None = None  # BaseSpace id -> latest archive/unarchive by orch
        self._present: dict[tuple[str, str], tuple[set[str], set[str]]] = {}  # (policy, dest) → (asked, found)
        self._held: dict[str, str] = {}  # analysis id → the policy that held its hand-off back this run

    # -- entry point
    def run(self) -> PlanOutcome:
        results: dict[str, PolicyPlan] = {}
        for pf in self.policies.files:
            for policy in pf.policies:
                if not policy.enabled or policy.resource == "bssh.trash":
                    continue
                results[policy.name] = self._plan_policy(pf, policy)
        actions = [a for r in results.values() for a in r.actions]
        actions = reconcile(self._drop_held_records(actions), self.order, self._notes)
        for pf in self.policies.files:
            for policy in pf.policies:
                if policy.enabled and policy.resource == "bssh.trash":
                    pp = PolicyPlan(policy)
                    trash = self._trash(policy, actions)
                    if trash is not None:
                        pp.actions.append(trash)
                    results[policy.name] = pp
        trash = [a for r in results.values() if r.policy.resource == "bssh.trash" for a in r.actions]
        actions = reconcile(actions + trash, self.order, self._notes)
        errors = [PlanIssue(name, msg) for name, r in results.items() for msg in r.errors]
        notes = [f"{name}: {n}" for name, r in results.items() for n in r.notes] + self._notes
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
            self._gather(pf, policy, pp, destructive)
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

    def _fail(self, pp: PolicyPlan, destructive: bool, exc: Exception, what: str) -> None:
        """A read for one resource failed: a destructive policy stops; others skip the resource."""
        if isinstance(exc, (AuthError, ConfigError)):
            raise exc
        if destructive:
            raise PolicyFailed(f"{what}: {exc}; failing closed: nothing is planned from this policy")
        pp.errors.append(f"{what}: {exc} (skipped)")

    def _gather(self, pf: PolicyFile, policy: Policy, pp: PolicyPlan, destructive: bool) -> None:
        ctx = self.ctx
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
                self._fail(pp, destructive, exc, f"cannot evaluate {c.resource.kind} {_label(c.resource)}")
        pp.selected = len(selected)
        check_max_resources(policy, pp.selected, pp.population)
        if policy.resource == "ica.analysis":
            self._emit_analysis_actions(pf, policy, pp, destructive, selected)
            limit = policy.limits.max_count if policy.limits else None
            files = {a.resource.id for a in pp.actions if a.action in DATA_ACTIONS}
            if policy.for_each is not None and limit is not None and len(files) > limit:
                # max_resources bounds what is acted on: with for_each that is files, not analyses
                raise LimitExceeded(f"acts on {len(files)} files of its {pp.selected} analyses, more than its "
                                    f"max_resources count of {limit}; nothing from this policy is planned")
        else:
            for c in selected:
                for spec in policy.actions:
                    a = self._data_action(pf, policy, pp, spec, c, policy.filters)
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
        if self.ctx.project(src.analyses.project).id not in self._scope_ids(pf):
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
                self._fail(pp, destructive, exc, f"cannot evaluate analysis {_alabel(a)}")
        out: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        # protecting an analysis protects what is reached from it (its outputs, datasets, run), also
        # when another analysis reaches the same resource
        # protecting an analysis protects what is reached from it (its outputs, datasets, run), also when
        # another analysis reaches the same resource, and whether or not this policy's filters pick it
        shielded = {a.id: why for a in analyses if (why := self._protected(a))}
        blocked: dict[tuple[str, str], IcaAnalysis] = {}
        for a in picked:
            if a.id in shielded:
                self._notes.append(f"{policy.name}: nothing reached from analysis {_alabel(a)} ({src.via}) is "
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
                    self._fail(pp, destructive, files, f"cannot list the outputs of analysis {_alabel(a)}")
                    continue
                for f in files:
                    add(f, a, f"output file of analysis {_alabel(a)}" + self._why(a, src.analyses.filters))
        elif src.via == "output_folder":
            for a in picked:
                try:
                    folder = ctx.output_folder(a)
                except OrchError as exc:
                    self._fail(pp, destructive, exc, f"cannot read the output folder of analysis {_alabel(a)}")
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
                    self._fail(pp, destructive, exc, f"cannot read bsshoutput.json of analysis {_alabel(a)}")
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
                    self._fail(pp, destructive, exc, f"cannot list the datasets of BaseSpace project {name}")
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
                self._notes.append(f"{policy.name}: {c.resource.kind} {_label(c.resource)} not considered: protected "
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
    def _emit_analysis_actions(self, pf: PolicyFile, policy: Policy, pp: PolicyPlan, destructive: bool,
                               selected: list[Candidate]) -> None:
        ctx = self.ctx
        outside = [spec.params.to for spec in policy.actions
                   if spec.name in ("link", "manifest") and not self._ica_in_scope(pf, spec.params.to)]
        if outside and any(spec.name == "mark_managed" for spec in policy.actions):
            pp.errors.append(f"destination {outside[0]!r} is outside the scope of {pf.path}; no hand-off of this "
                             f"policy is planned (never a ledger record without its links and manifest)")
            for c in selected:
                self._held.setdefault(c.resource.id, policy.name)
            return
        analyses = [c.resource for c in selected]
        files_of: dict[str, list[IcaData]] = {}
        fe = policy.for_each
        if fe is not None:
            ctx.prefetch_output_folders(analyses)
            listed = ctx.map(ctx.output_files, analyses)
            for a, files in zip(analyses, listed):
                if isinstance(files, OrchError):
                    self._fail(pp, destructive, files, f"cannot list the outputs of analysis {_alabel(a)}")
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
                        self._fail(pp, destructive, exc, f"cannot evaluate file {f.path}")
                files_of[a.id] = sorted(chosen, key=lambda f: f.path)
            self._prefetch_links(policy, (f for files in files_of.values() for f in files))
        for a in analyses:
            if fe is not None and a.id not in files_of:
                self._held.setdefault(a.id, policy.name)
                continue  # its outputs could not be read (reported)
            files = files_of.get(a.id, [])
            partial = [f for f in files if f.status == "PARTIAL"]
            if partial:  # still being written: hand off nothing of it yet (never half a hand-off)
                pp.notes.append(f"analysis {_alabel(a)}: {len(partial)} selected file(s) still PARTIAL "
                                f"(e.g. {partial[0].name}); its hand-off waits for a later run")
                self._held.setdefault(a.id, policy.name)
                continue
            guarded = [(f, why) for f in files if (why := self._protected(f))]
            if guarded:  # a hand-off is whole or not at all: never a manifest or ledger record without a file
                f, why = guarded[0]
                pp.notes.append(f"analysis {_alabel(a)}: {len(guarded)} selected file(s) are protected "
                                f"(e.g. {f.name}: {why}); its hand-off is held back until they are "
                                f"unprotected or no longer selected")
                self._held.setdefault(a.id, policy.name)
                continue
            mine: list[PlannedAction] = []
            cand = Candidate(a, a, f"analysis {_alabel(a)}")
            links: list[PlannedAction] = []
            for spec in policy.actions:
                if spec.name in DATA_ACTIONS and fe is not None and not (spec.name == "tag" and not files):
                    for f in files:
                        act = self._data_action(pf, policy, pp, spec,
                                                Candidate(f, a, f"output file of analysis {_alabel(a)}"),
                                                fe.filters)
                        if act is not None:
                            mine.append(act)
                            if act.action == "link":
                                links.append(act)
                elif spec.name == "tag":
                    act = self._data_action(pf, policy, pp, spec, cand, policy.filters)
                    if act is not None:
                        mine.append(act)
            try:
                for spec in policy.actions:
                    if spec.name == "manifest":
                        if fe is None or not files:
                            continue
                        act = self._manifest(pf, policy, pp, spec, a, files, [x.id for x in links])
                        if act is not None:
                            mine.append(act)
            except HandoffBlocked as exc:  # never links and a ledger record without the manifest
                pp.errors.append(f"{exc}; the hand-off of analysis {_alabel(a)} is held back (no link, manifest "
                                 f"or ledger record) until this is fixed")
                self._held.setdefault(a.id, policy.name)
                continue
            for spec in policy.actions:
                if spec.name == "mark_managed" and not ctx.is_managed(a):
                    act = self._make(pf, policy, "mark_managed", a, {}, policy.filters,
                                           f"record analysis {_alabel(a)} as handed off"
                                           + (f" ({len(files)} file{'s' if len(files) != 1 else ''} selected)"
                                              if fe is not None else "")
                                           + f"; {describe(policy.filters)}",
                                           depends_on=[x.id for x in mine])
                    if act is not None:
                        mine.append(act)
            pp.actions.extend(mine)

    def _manifest(self, pf: PolicyFile, policy: Policy, pp: PolicyPlan, spec, analysis: IcaAnalysis,
                  files: list[IcaData], link_ids: list[str]) -> PlannedAction | None:
        ctx = self.ctx
        params = spec.params
        try:
            name = render_for_resource(params.name, pf.vars, analysis=analysis, resource=analysis)
        except TemplateError as exc:
            raise HandoffBlocked(f"manifest name for analysis {_alabel(analysis)}: {exc}") from None
        if not name or "/" in name:
            raise HandoffBlocked(f"manifest name {name!r} for analysis {_alabel(analysis)} is not a file name")
        if not self._ica_in_scope(pf, params.to):
            raise HandoffBlocked(f"manifest destination {params.to!r} is outside the scope")
        dest = ctx.project(params.to)
        path = params.folder + name
        try:
            found = ctx.folder_files(dest.id, params.folder).get(path)
        except NotFound:
            found = None  # no such folder yet: no manifest either
        except AuthError:
            raise
        except ApiError:  # the folder listing is refused (e.g. 400 for a missing folder): ask for the one path
            found = ctx.data_at(dest.id, path)
        if found is not None and found.status != "PARTIAL":
            return None  # a manifest is already there
        entries = [{"file_name": f.name, "file_path": f.path, "data_id": f.id} for f in files]
        p = {"to_project": params.to, "to_project_id": dest.id, "path": path, "folder": params.folder,
             "name": name, "rows": len(entries), "columns": list(params.columns), "entries": entries}
        reason = (f"write the download manifest of analysis {_alabel(analysis)} ({len(entries)} "
                  f"file{'s' if len(entries) != 1 else ''}) into {params.to}"
                  + ("; a partial upload is there and is completed" if found is not None else "; none exists yet"))
        return self._make(pf, policy, "manifest", analysis, p, policy.filters, reason, depends_on=link_ids)

    # -- actions on data
    def _data_action(self, pf: PolicyFile, policy: Policy, pp: PolicyPlan, spec, c: Candidate,
                     filters: list[Matcher]) -> PlannedAction | None:
        r = c.resource
        name = spec.name
        conds = describe(filters)
        age = _age_note(filters, r, self.ctx.now)
        subject = f"{c.via or _label(r)}"
        tail = (f"; {conds}" if conds else "") + (f" ({age})" if age else "")
        if name == "link":
            to = spec.params.to
            if not self._ica_in_scope(pf, to):
                pp.notes.append(f"link destination {to!r} is outside the scope; not planned")
                return None
            dest = self.ctx.project(to)
            if r.project_id == dest.id:
                return None
            present = self._linked(dest.id, r, c, policy, pp)
            if present:
                return None
            return self._make(pf, policy, "link", r, {"to_project": to, "to_project_id": dest.id}, filters,
                              f"link {subject} into {to}: not linked there yet{tail}")
        if name == "tag":
            tags = []
            for t in spec.params.user_tags:
                try:
                    tags.append(render_for_resource(t, pf.vars, analysis=c.analysis, resource=r))
                except TemplateError as exc:
                    pp.errors.append(f"tag for {_label(r)}: {exc} (skipped)")
                    return None
            have = set(user_tags(r))
            missing = sorted(set(tags) - have)
            if not missing:
                return None
            return self._make(pf, policy, "tag", r, {"user_tags": missing}, filters,
                              f"tag {subject} with {', '.join(missing)}{tail}")
        if name not in LIFECYCLE:
            pp.errors.append(f"action {name} cannot act on {r.kind} (skipped)")
            return None
        if isinstance(r, IcaData) and r.owning_project_id and r.owning_project_id != r.project_id:
            pp.notes.append(f"{name} of {_label(r)} not planned: it is linked in from project {r.owning_project_id}; "
                            f"orch archives and deletes ICA data only in the project that owns it")
            return None
        archived, transit, status = _storage_state(r)
        if isinstance(r, (BsshDataset, BsshRun)):
            transit, status = self._bssh_requested(r)
        if transit:
            pp.transit.append(f"{_label(r)} ({status})")
            return None
        if isinstance(r, BsshRun) and r.status not in TERMINAL_RUN:
            pp.notes.append(f"run {r.name} is {r.status}; only Complete, Stopped or Failed runs are archived or "
                            f"deleted")
            return None
        if name == "archive":
            if archived:
                return None
            action, params, reason = "archive", {}, f"archive {subject}{tail}"
        elif name == "unarchive":
            if not archived:
                return None
            then = getattr(spec.params, "then", None)
            action, params, reason = "unarchive", ({"then": then} if then else {}), f"unarchive {subject}{tail}"
        elif archived:  # delete, two-phase
            action, params = "unarchive", {"then": "delete"}
            reason = (f"delete {subject}{tail}; it is archived, so it is unarchived now and deleted by a "
                      f"later run once available")
        else:
            action, params, reason = "delete", {}, f"delete {subject}{tail}"
        if not self._folder_clear(policy, pp, action, r):
            return None
        return self._make(pf, policy, action, r, params, filters, reason, reached_from=c.reached_from)

    def _folder_clear(self, policy: Policy, pp: PolicyPlan, action: str, r: Resource) -> bool:
        """False when ``action`` on an ICA folder would reach something protected by name, id or tag
        under it (or its contents cannot be listed to tell): the action is not planned."""
        if not (isinstance(r, IcaData) and r.is_folder and self.protect.reaches_inside) or self._protected(r):
            return True  # nothing to look for inside, or _make refuses the folder itself anyway
        try:
            why = self.protect.why_inside(r.path, self.ctx.contents_under(r.project_id, r.path))
        except OrchError as exc:
            self._fail(pp, policy_is_destructive(policy), exc,
                       f"cannot list folder {r.path} to check it holds nothing protected")
            return False
        if why:
            self._notes.append(f"{policy.name}: {action} of {r.kind} {_label(r)} not planned: {why}")
            return False
        return True

    def _linked(self, dest_id: str, f: Resource, c: Candidate, policy: Policy, pp: PolicyPlan) -> bool:
        """Is the file already present in the destination project? Hand-off policies look up every
        selected file of the policy in one batch (``id[]``) before emitting; others ask per file."""
        known = self._present.get((policy.name, dest_id))
        if known is not None and f.id in known[0]:
            return f.id in known[1]
        return f.id in self.ctx.data_by_ids(dest_id, [f.id])

    def _prefetch_links(self, policy: Policy, files: Iterable[IcaData]) -> None:
        ids = sorted({f.id for f in files})
        for spec in policy.actions:
            if spec.name == "link" and ids and spec.params.to in self._scope_names(policy):
                dest = self.ctx.project(spec.params.to)
                self._present[(policy.name, dest.id)] = (set(ids), set(self.ctx.data_by_ids(dest.id, ids)))

    def _bssh_requested(self, r: BsshDataset | BsshRun) -> tuple[bool, str]:
        """BaseSpace shows no archive work in flight (only ``IsArchived``, which flips when the work
        completes): an archive or restore orch requested within ``BSSH_ASYNC_WINDOW`` whose result is not
        visible yet is in transit, so the next run neither repeats it nor plans around it. Older requests
        are retried. Without that memory (a fresh ledger) ``IsArchived`` alone decides: an archived object
        is restored (again, harmlessly) before any delete, never deleted."""
        if self.ctx.ledger is None:
            return False, ""
        if self._inflight is None:
            self._inflight = self.ctx.ledger.bssh_requests(self.ctx.now)  # audit times: the run clock
        latest = self._inflight.get(r.id)
        if r.is_archived and latest == "unarchive":
            return True, "restore requested by orch"
        if not r.is_archived and latest == "archive":
            return True, "archive requested by orch"
        return False, ""

    def _scope_ids(self, pf: PolicyFile) -> set[str]:
        """Ids of the file's ICA scope projects (names that do not resolve are simply not in it)."""
        ids = set()
        for name in pf.scope.ica_projects:
            try:
                ids.add(self.ctx.project(name).id)
            except OrchError:
                continue
        return ids

    def _scope_names(self, policy: Policy) -> list[str]:
        return policy.file.scope.ica_projects if policy.file is not None else []

    def _ica_in_scope(self, pf: PolicyFile, project_name: str) -> bool:
        return project_name in pf.scope.ica_projects

    def _protected(self, r: Resource, ref: ResourceRef | None = None) -> str:
        """Why the protect list forbids touching ``r`` ("" when it does not); ``ref`` when already built."""
        if not self.protect:
            return ""
        ref = ref or ResourceRef.from_dict(r.ref())
        return self.protect.why(ref.to_dict(), resource_tags(getattr(r, "raw", None)))

    def _make(self, pf: PolicyFile, policy: Policy, action: str, r: Resource, params: dict[str, Any],
              filters: list[Matcher], reason: str, depends_on: Iterable[str] = (),
              reached_from: dict[str, Any] | None = None) -> PlannedAction | None:
        fields = sorted(_fields(filters) | BASE_FIELDS.get(r.kind, set()))
        ref = ResourceRef.from_dict(r.ref())
        if reached_from:  # the analyses it was reached from: apply re-checks their protection
            ref.extra["reached_from"] = {"project_id": reached_from["project_id"],
                                         "analyses": sorted(reached_from["analyses"])}
        if r.kind.startswith("ica.") and ref.project_id not in self._scope_ids(pf):
            self._notes.append(f"{policy.name}: {action} of {r.kind} {_label(r)} not planned: its project is outside "
                               f"the scope of {pf.path}")
            return None
        why = self._protected(r, ref)
        if why:
            self._notes.append(f"{policy.name}: {action} of {r.kind} {_label(r)} not planned: {why}")
            return None
        return PlannedAction.create(policy=policy.name, group=policy.group or pf.group, action=action, resource=ref,
                                    params=params, reason=reason, fingerprint=decision_fingerprint(r, fields),
                                    depends_on=depends_on, fingerprint_fields=fields)

    def _drop_held_records(self, actions: list[PlannedAction]) -> list[PlannedAction]:
        """The ledger record is per analysis: when one policy held an analysis's hand-off back, no other
        policy may record it as handed off in this run, or the held-back hand-off is never retried."""
        out = []
        for a in actions:
            held_by = self._held.get(a.resource.id) if a.action == "mark_managed" else None
            if held_by is not None and held_by != a.policy:
                self._notes.append(f"{a.policy}: mark_managed of analysis {a.resource.label()} not planned: "
                                   f"{held_by} held its hand-off back this run (the record waits for both)")
                continue
            out.append(a)
        return out

    # -- the trash
    def _trash(self, policy: Policy, actions: list[PlannedAction]) -> PlannedAction | None:
        deletes = [a for a in actions if a.action == "delete" and a.resource.kind in ("bssh.dataset", "bssh.run")]
        if not deletes:
            return None
        return PlannedAction.create(
            policy=policy.name, group=policy.group or (policy.file.group if policy.file else ""),
            action="purge_trash", resource=TRASH_REF, params={},
            reason=f"empty the whole BaseSpace trash after this plan's {len(deletes)} BaseSpace "
                   f"delete{'s' if len(deletes) != 1 else ''}",
            fingerprint=fingerprint({}), depends_on=[a.id for a in deletes])



def _storage_state(r: Resource) -> tuple[bool, bool, str]:
    """(archived, in transit, status text) of data, a dataset or a run."""
    if isinstance(r, IcaData):
        return r.status == "ARCHIVED", r.status in IN_TRANSIT, r.status
    if isinstance(r, (BsshDataset, BsshRun)):
        return r.is_archived, False, "archived" if r.is_archived else "available"
    return False, False, ""


def _alabel(a: IcaAnalysis) -> str:
    """A short name for an analysis in reasons: its user reference (the run folder), else its reference."""
    return a.user_reference or a.reference or a.id


def _label(r: Resource) -> str:
    for attr in ("path", "reference", "name", "id"):
        v = getattr(r, attr, None)
        if v:
            return str(v)
    return "?"


def render_manifest(params: dict[str, Any]) -> bytes:
    """The manifest CSV bytes (csv module: quoting of odd names), rows sorted by file_path."""
    columns = list(params.get("columns") or ["file_name", "file_path", "data_id", "project_id"])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for e in sorted(params.get("entries") or [], key=lambda e: e["file_path"]):
        row = {**e, "project_id": params.get("to_project_id", "")}
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue().encode("utf-8")


def build_plan(policies: PolicySet, ctx: PlanContext, protect: Protect | None = None) -> PlanOutcome:
    return Planner(policies, ctx, protect).run()
