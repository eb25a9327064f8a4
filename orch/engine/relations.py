"""Relations (``from: {analyses: ..., via: ...}``): from the analyses a policy selects to what it acts on.

``VIA`` maps each relation to one small function that adds what the picked analyses reach. Protecting
an analysis protects what is reached from it (its outputs, datasets, run), also when another analysis
reaches the same resource, and whether or not this policy's filters pick it: the shielded analyses'
reach is collected too, only to block it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from orch.engine.context import run_folder
from orch.engine.evaluate import evaluate, split_cheap
from orch.engine.plan import ReachedFrom
from orch.engine.reasons import age_note, alabel, label
from orch.engine.step import Candidate, PolicyFailed, PolicyStep
from orch.errors import OrchError
from orch.inventory import IcaAnalysis, Resource
from orch.registry import Matcher


@dataclass
class Reach:
    """What the picked analyses reach: candidates in first-reached order, each with every analysis
    reaching it (``reached_from``); what a shielded (protected) analysis reaches is blocked."""

    step: PolicyStep
    source_id: str
    filters: list[Matcher]  # the analyses' filters (for the "why selected" part of the reason)
    shielded: dict[str, str]  # analysis id → why it is protected
    out: list[Candidate] = field(default_factory=list)
    reachers: dict[tuple[str, str], ReachedFrom] = field(default_factory=dict)
    blocked: dict[tuple[str, str], IcaAnalysis] = field(default_factory=dict)

    def add(self, res: Resource, a: IcaAnalysis, via: str) -> None:
        key = (res.kind, res.id)
        if a.id in self.shielded:
            self.blocked.setdefault(key, a)
            return
        reach = self.reachers.get(key)
        if reach is None:
            reach = self.reachers[key] = ReachedFrom(self.source_id)
            self.out.append(Candidate(res, a, via + self.why(a), reach))
        if a.id not in reach.analyses:
            reach.analyses.append(a.id)

    def why(self, a: IcaAnalysis) -> str:
        """`` (FAILED, startDate 2026-08-17, 100.0 days ago)``: what selected the analysis, briefly."""
        age = age_note(self.filters, a, self.step.ctx.now)
        return f" ({a.status}" + (f", {age})" if age else ")")


def _outputs(reach: Reach, picked: list[IcaAnalysis]) -> None:
    ctx = reach.step.ctx
    for a, files in zip(picked, ctx.map(ctx.output_files, picked)):
        if isinstance(files, OrchError):
            reach.step.fail(files, f"cannot list the outputs of analysis {alabel(a)}")
            continue
        for f in files:
            reach.add(f, a, f"output file of analysis {alabel(a)}")


def _output_folder(reach: Reach, picked: list[IcaAnalysis]) -> None:
    for a in picked:
        try:
            folder = reach.step.ctx.output_folder(a)
        except OrchError as exc:
            reach.step.fail(exc, f"cannot read the output folder of analysis {alabel(a)}")
            continue
        if folder is not None:
            reach.add(folder, a, f"output folder of analysis {alabel(a)}")


def _bsshoutput_projects(reach: Reach, picked: list[IcaAnalysis]) -> None:
    step, ctx = reach.step, reach.step.ctx
    scope = step.pf.scope
    plan_for: list[tuple[IcaAnalysis, str, str]] = []
    for a in picked:
        try:
            names = ctx.bsshoutput_project_names(a)
            by_name = ctx.bssh_projects() if names else {}
        except OrchError as exc:
            step.fail(exc, f"cannot read bsshoutput.json of analysis {alabel(a)}")
            continue
        for name in names:
            if not (scope.bssh_from_bsshoutput or name in scope.bssh_projects):
                step.note(f"BaseSpace project {name!r} (named by analysis {alabel(a)}) is outside the scope; "
                          f"not considered")
                continue
            projects = by_name.get(name, [])
            if not projects:
                step.note(f"BaseSpace project {name!r} named by bsshoutput.json of analysis {alabel(a)} does "
                          f"not exist")
            for p in sorted(projects, key=lambda p: p.id):
                plan_for.append((a, name, p.id))
    ctx.prefetch_datasets(pid for _a, _n, pid in plan_for)
    for a, name, pid in plan_for:
        try:
            datasets = ctx.datasets(pid)
        except OrchError as exc:
            step.fail(exc, f"cannot list the datasets of BaseSpace project {name}")
            continue
        for d in datasets:
            reach.add(d, a, f"dataset of BaseSpace project {name}, named by bsshoutput.json of analysis {alabel(a)}")


def _run(reach: Reach, picked: list[IcaAnalysis]) -> None:
    by_name = reach.step.ctx.runs_by_name() if picked else {}
    for a in picked:
        folder = run_folder(a.user_reference)
        for r in by_name.get(folder, []) if folder else []:
            reach.add(r, a, f"run {folder} of analysis {alabel(a)}")


#: relation → what it adds; the set: relations that read the analyses' output folders
VIA: dict[str, Callable[[Reach, list[IcaAnalysis]], None]] = {
    "outputs": _outputs, "output_folder": _output_folder, "bsshoutput_projects": _bsshoutput_projects, "run": _run,
}
READS_OUTPUT_FOLDER = frozenset({"outputs", "output_folder", "bsshoutput_projects"})


def reached(step: PolicyStep) -> list[Candidate]:
    """The candidates of a policy with ``from``: what its relation reaches from the analyses it picks."""
    ctx, pf, policy = step.ctx, step.pf, step.policy
    src = policy.source
    relation = VIA.get(src.via)
    if relation is None:
        raise PolicyFailed(f"unknown relation via: {src.via}")
    source_id = ctx.project(src.analyses.project).id
    if source_id not in step.planner.scope_ids(pf):
        step.note(f"ICA project {src.analyses.project!r} is outside the scope of {pf.path}; nothing is "
                  f"considered from it")
        return []
    analyses = ctx.analyses(source_id)
    cheap, costly = split_cheap(src.analyses.filters)
    chosen = [a for a in analyses if evaluate(cheap, a, ctx)]
    if costly or src.via in READS_OUTPUT_FOLDER:
        ctx.prefetch_output_folders(chosen)
    picked: list[IcaAnalysis] = []
    for a in chosen:
        try:
            if evaluate(costly, a, ctx):
                picked.append(a)
        except OrchError as exc:
            step.fail(exc, f"cannot evaluate analysis {alabel(a)}")
    shielded = {a.id: why for a in analyses if (why := step.protected(a))}
    for a in picked:
        if a.id in shielded:
            step.planner.notes.append(f"{policy.name}: nothing reached from analysis {alabel(a)} ({src.via}) is "
                                      f"planned: {shielded[a.id]}")
    picked = picked + [a for a in analyses if a.id in shielded and a not in picked]  # their reach, to block
    reach = Reach(step, source_id, src.analyses.filters, shielded)
    relation(reach, picked)
    kept = []
    for c in reach.out:
        by = reach.blocked.get((c.resource.kind, c.resource.id))
        if by is None:
            kept.append(c)
        else:
            step.planner.notes.append(f"{policy.name}: {c.resource.kind} {label(c.resource)} not considered: "
                                      f"protected analysis {alabel(by)} reaches it too ({shielded[by.id]})")
    return kept
