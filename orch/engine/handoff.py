"""Hand-offs: the actions of an ``ica.analysis`` policy, per selected analysis, whole or not at all.

Per analysis the files ``for_each`` selects are listed and filtered once; a hand-off with a file still
being written (PARTIAL) or a protected file is held back; otherwise each action kind's
``plan_analysis`` runs by ``analysis_phase`` (the files' actions, then what follows the links, then
the ledger record). A held-back analysis is never recorded as handed off by any policy this run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orch.engine.evaluate import evaluate
from orch.engine.kinds import need
from orch.engine.plan import PlannedAction
from orch.engine.reasons import alabel
from orch.engine.step import Candidate, HandoffBlocked, PolicyStep
from orch.errors import OrchError
from orch.inventory import IcaAnalysis, IcaData

if TYPE_CHECKING:
    from orch.engine.planner import Planner


def _sharing_refused(step: PolicyStep, kinds: list, a: IcaAnalysis) -> bool:
    """A hand-off that links data out of a project with ``dataSharingEnabled: false`` is a plan error
    (ICA refuses such links): none of that analysis's hand-off is planned (issue 9.6)."""
    if not any(cls.destinations(spec.params) and cls.name == "link" for cls, spec in kinds):
        return False
    try:
        src = step.ctx.ica.get_project(a.project_id)
    except OrchError as exc:
        step.fail(exc, f"cannot read ICA project {a.project_id} to check it allows data sharing")
        step.hold(a.id)
        return True
    if src.raw.get("dataSharingEnabled") is not False:
        return False
    msg = (f"ICA project {src.name!r} does not allow data sharing (dataSharingEnabled is false), so its data cannot "
           f"be linked into other projects; fix: turn on data sharing in the project's details in ICA, then plan again")
    if msg not in step.pp.errors:
        step.pp.errors.append(msg)
    step.hold(a.id)
    return True


def plan_handoffs(step: PolicyStep, selected: list[Candidate]) -> None:
    """Per selected analysis, its kinds' ``plan_analysis`` by ``analysis_phase`` (files first, then
    what follows the links, then the record); a hand-off is whole or not at all."""
    ctx, pf, policy, pp = step.ctx, step.pf, step.policy, step.pp
    kinds = [(need(spec.name), spec) for spec in policy.actions]
    outside = [to for cls, spec in kinds for to in cls.destinations(spec.params).values() if not step.in_scope(to)]
    if outside and any(cls.records_handoff for cls, _spec in kinds):
        pp.errors.append(f"destination {outside[0]!r} is outside the scope of {pf.path}; no hand-off of this "
                         f"policy is planned (never a ledger record without its links and manifest)")
        for c in selected:
            step.hold(c.resource.id)
        return
    analyses = [a for a in (c.resource for c in selected) if not _sharing_refused(step, kinds, a)]
    files_of: dict[str, list[IcaData]] = {}
    fe = policy.for_each
    if fe is not None:
        ctx.prefetch_output_folders(analyses)
        listed = ctx.map(ctx.output_files, analyses)
        for a, files in zip(analyses, listed):
            if isinstance(files, OrchError):
                step.fail(files, f"cannot list the outputs of analysis {alabel(a)}")
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
            pp.notes.append(f"analysis {alabel(a)}: {len(partial)} selected file(s) still PARTIAL "
                            f"(e.g. {partial[0].name}); its hand-off waits for a later run")
            step.hold(a.id)
            continue
        guarded = [(f, why) for f in files if (why := step.protected(f))]
        if guarded:  # a hand-off is whole or not at all: never a manifest or ledger record without a file
            f, why = guarded[0]
            pp.notes.append(f"analysis {alabel(a)}: {len(guarded)} selected file(s) are protected "
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
            pp.errors.append(f"{exc}; the hand-off of analysis {alabel(a)} is held back (no link, manifest "
                             f"or ledger record) until this is fixed")
            step.hold(a.id)
            continue
        pp.actions.extend(mine)


def drop_held_records(planner: "Planner", actions: list[PlannedAction]) -> list[PlannedAction]:
    """The ledger record is per analysis: when one policy held an analysis's hand-off back, no other
    policy may record it as handed off in this run, or the held-back hand-off is never retried."""
    out = []
    for a in actions:
        held_by = planner.held.get((a.group, a.resource.id)) if need(a.action).records_handoff else None
        if held_by is not None and held_by != a.policy:
            planner.notes.append(f"{a.policy}: {a.action} of analysis {a.resource.label()} not planned: "
                              f"{held_by} held its hand-off back this run (the record waits for both)")
            continue
        out.append(a)
    return out
