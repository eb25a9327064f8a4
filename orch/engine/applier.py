"""The applier: execute exactly a plan's actions, in dependency order, one result each.

One failure never stops unrelated actions; an action whose dependency did not succeed is
``not-run``; safety rules (protect list, destructive only from policies that allow it) refuse
before anything is read. Each result is shown live and appended to the ledger audit log as it
happens (a ``mark_managed`` that is done records the analysis in the same transaction).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from orch.engine.executors import ApplyContext, executor_for, reread
from orch.engine.kinds import kind
from orch.engine.limits import Protect, destructive_refusal
from orch.engine.plan import ActionResult, ApplyReport, Outcome, Plan, PlannedAction, ReachedFrom
from orch.errors import OrchError

log = logging.getLogger(__name__)



def _lifecycle(action: PlannedAction) -> bool:
    """A storage action: on an ICA folder it reaches everything under it, and its resource may have
    been reached from (protected) analyses."""
    cls = kind(action.action)
    return cls is not None and cls.lifecycle


class Applier:
    """``allows``: policy name → allow_destructive (None/absent: unknown policy → destructive refused)."""

    def __init__(self, ctx: ApplyContext, *, protect: Protect | None = None,
                 allows: Mapping[str, bool] | None = None,
                 on_start: Callable[[PlannedAction], None] | None = None,
                 on_result: Callable[[ActionResult], None] | None = None):
        self.ctx = ctx
        self.protect = protect or Protect()
        self.allows = dict(allows or {})
        self.on_start = on_start
        self.on_result = on_result
        self._analyses: dict[str, dict[str, Any]] = {}  # project id -> analyses by id (protect re-check)

    def apply(self, plan: Plan) -> ApplyReport:
        self.ctx.fresh()
        actions = list(plan.actions)
        by_id = {a.id: a for a in actions}
        results: dict[str, ActionResult] = {}
        report = ApplyReport()

        def finish(r: ActionResult) -> None:
            results[r.action.id] = r
            report.add(r)
            self._record(r)
            if self.on_result:
                self.on_result(r)

        for i, action in enumerate(actions):
            if action.id in results:
                continue
            blocked = self._blocked(action, results, by_id)
            if blocked is not None:
                finish(blocked)
                continue
            refused = self._refusal(action)
            if refused is not None:
                finish(refused)
                continue
            cls = kind(action.action)
            unneeded = cls.unneeded(action, [results[d] for d in action.depends_on]) if cls is not None else None
            if unneeded:
                finish(ActionResult(action, Outcome.SKIPPED, unneeded))
                continue
            try:
                executor = executor_for(action)
            except OrchError as exc:
                finish(ActionResult(action, Outcome.FAILED, str(exc)))
                continue
            key = executor.batch_key(action)
            batch = [action]
            if key is not None:
                for other in actions[i + 1:]:
                    if other.id in results or other in batch:
                        continue
                    try:
                        same = executor_for(other) is executor and executor.batch_key(other) == key
                    except OrchError:
                        same = False
                    if same and self._blocked(other, results, by_id) is None and self._refusal(other) is None:
                        batch.append(other)
            if self.on_start:
                for a in batch:
                    self.on_start(a)
            try:
                batch_results = executor.run(batch, self.ctx)
            except Exception as exc:  # an executor bug must not stop unrelated actions
                log.debug("executor failed", exc_info=True)
                batch_results = [ActionResult(a, Outcome.FAILED, f"internal error: {type(exc).__name__}: {exc}")
                                 for a in batch]
            for r in batch_results:
                finish(r)
        return report

    # -- rules
    def _blocked(self, action: PlannedAction, results: Mapping[str, ActionResult],
                 by_id: Mapping[str, PlannedAction]) -> ActionResult | None:
        for dep in action.depends_on:
            r = results.get(dep)
            if r is None:
                if dep not in by_id:
                    return ActionResult(action, Outcome.NOT_RUN, f"depends on {dep}, which is not in the plan")
                return ActionResult(action, Outcome.NOT_RUN, f"depends on {dep}, which has not run")
            if not r.ok:
                return ActionResult(action, Outcome.NOT_RUN,
                                    f"depends on {r.action.action} of {r.action.resource.label()}, "
                                    f"which was {r.outcome.value}")
        return None

    def _refusal(self, action: PlannedAction) -> ActionResult | None:
        why = destructive_refusal(action, self.allows.get(action.policy))
        if why:
            return ActionResult(action, Outcome.REFUSED, why)
        if self.protect and action.resource.kind != "bssh.trash":
            why = self.protect.why(action.resource.to_dict())
            if why is None and self.protect.tags:
                try:
                    current = reread(action, self.ctx)
                except OrchError:
                    current = None
                why = self.protect.why(action.resource.to_dict(), current.tags if current is not None else ())
            if why is None:
                why = self._protected_inside(action)
            if why is None:
                why = self._protected_analysis(action)
            if why:
                return ActionResult(action, Outcome.REFUSED, f"protected: {why}")
        return None

    def _protected_analysis(self, action: PlannedAction) -> str | None:
        """A resource reached from analyses (``resource.reached_from``) is protected with any of them:
        re-read them now (one listing of their project) so a protection added after the plan counts."""
        reach = ReachedFrom.from_dict(action.resource.get("reached_from"))
        if reach is None or not _lifecycle(action):
            return None
        project, ids = reach.project_id, reach.analyses
        try:
            if project not in self._analyses:  # once per apply: the connector's cache is cleared by writes
                self._analyses[project] = {a.id: a for a in self.ctx.need_ica().list_analyses(project)}
        except OrchError as exc:
            return f"cannot read the analyses it was reached from, to check their protection: {exc}"
        current = self._analyses[project]
        for aid in ids:
            a = current.get(aid)
            if a is not None and (why := self.protect.why(a.ref(), a.tags)):
                return f"it is reached from analysis {a.user_reference or a.reference}, which is protected ({why})"
        return None

    def _protected_inside(self, action: PlannedAction) -> str | None:
        """Archive, unarchive and delete of an ICA folder reach everything under it: list it now and
        refuse when anything there is protected by name, id or tag (or it cannot be listed)."""
        r = action.resource
        if not (r.kind == "ica.data" and _lifecycle(action) and (r.path or "").endswith("/")
                and self.protect.reaches_inside):
            return None
        try:
            contents = list(self.ctx.need_ica().list_data(r.project_id, path_prefix=r.path))  # case-sensitive
        except OrchError as exc:
            return f"cannot list the folder to check it holds nothing protected: {exc}"
        return self.protect.why_inside(r.path, contents)

    def _record(self, r: ActionResult) -> None:
        ledger = self.ctx.ledger
        if ledger is None:
            return
        try:
            ledger.record(r, when=self.ctx.now)
        except Exception as exc:  # the audit log must not hide the result; a lost managed entry is loud
            log.error("could not record %s %s in the ledger: %s", r.action.action, r.action.id, exc)
            cls = kind(r.action.action)
            if cls is not None and cls.records_handoff and r.outcome == Outcome.DONE:
                r.outcome = Outcome.FAILED
                r.message = f"could not record in the ledger: {exc}"
