"""One ``orch watch`` cycle: plan and apply exactly as ``orch apply -p ... --yes`` would, under the
apply lock for the whole cycle (plan included), so a manual apply never interleaves with it.

The plan is made by ``commands.make_plan`` and applied by the engine's ``Applier`` with the same
protect list and destructive permissions ``orch apply`` uses: a watch cycle refuses what a manual
apply refuses. Failures are classified for the watch loop: authentication (counted, the watch stops
after several in a row), configuration (stop now), anything else (transient: back off, go on).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from orch.engine.applier import Applier
from orch.engine.commands import _allows, load_protect, make_plan, state_path
from orch.engine.executors import ApplyContext
from orch.engine.ledger import Ledger
from orch.engine.plan import ActionResult, ApplyReport, Plan, PlannedAction
from orch.engine.session import Session
from orch.errors import AuthError, ConfigError, OrchError
from orch.ops.stop import StopFlag, StopRequested
from orch.policy.loader import load_policies
from orch.settings import RunSettings
from orch.timeutil import format_ts, utcnow

log = logging.getLogger("orch.watch")


@dataclass
class CycleResult:
    """What one cycle did; ``status_line()`` is the one line ``orch watch`` logs per cycle."""

    reason: str  # start | poll | event | once
    started: datetime
    dry_run: bool = False
    seconds: float = 0.0
    plan: Plan | None = None
    report: ApplyReport | None = None
    planned: dict[str, int] = field(default_factory=dict)  # action kind -> count
    errors: list[str] = field(default_factory=list)  # the plan's errors (policies that failed closed)
    transit: int = 0  # resources left alone because archive/restore/delete work is in flight
    failure: str | None = None  # the cycle could not plan or apply
    auth_failure: bool = False
    fatal: bool = False  # a configuration error: watching on cannot help
    stopped: str | None = None  # the signal that stopped it between actions

    @property
    def outcomes(self) -> dict[str, int]:
        return self.report.counts if self.report else {}

    @property
    def problems(self) -> int:
        bad = sum(n for o, n in self.outcomes.items() if o not in ("done", "skipped"))
        return bad + len(self.errors) + (1 if self.failure else 0)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems or self.stopped else 0

    def status_line(self, next_in: float | None = None) -> str:
        head = f"cycle {format_ts(self.started.replace(microsecond=0))} ({self.reason})"
        if self.failure:
            body = f"failed: {self.failure}"
        else:
            n = sum(self.planned.values())
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.planned.items()))
            body = f"{n} planned" + (f" ({kinds})" if kinds else "")
            if self.dry_run:
                body += "; dry run, nothing applied"
            elif self.report is not None:
                body += "; " + ", ".join(f"{v} {k}" for k, v in self.outcomes.items())
            if self.errors:
                body += f"; {len(self.errors)} policy error{'s' if len(self.errors) != 1 else ''}"
            if self.transit:
                body += f"; waiting: {self.transit} in transit (archive/restore/delete in progress)"
        if self.stopped:
            body += f"; stopped by {self.stopped} between actions"
        tail = f"; next in {_human(next_in)}" if next_in is not None else ""
        return f"{head}: {body} [{self.seconds:.1f} s]{tail}"


def _human(seconds: float) -> str:
    s = max(0, int(round(seconds)))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s / 3600:.1f} h"


@dataclass
class CycleHooks:
    """Optional observers (the watch's notifications; tests)."""

    on_action_start: Callable[[PlannedAction], None] | None = None
    on_result: Callable[[ActionResult], None] | None = None


def run_cycle(settings: RunSettings, stop: StopFlag, *, reason: str, dry_run: bool = False,
              lock_timeout_s: float = 30.0, hooks: CycleHooks | None = None) -> CycleResult:
    """Plan (and unless ``dry_run`` apply) once. Never raises: the result says what went wrong."""
    hooks = hooks or CycleHooks()
    res = CycleResult(reason=reason, started=utcnow(), dry_run=dry_run)
    t0 = time.monotonic()
    try:
        policies = load_policies(settings.policy_paths, settings.var_overrides)
        with Session(settings) as session, Ledger(state_path(settings)) as ledger:
            with ledger.apply_lock(timeout_s=lock_timeout_s):
                outcome = make_plan(settings, session, ledger, policies)
                plan = res.plan = outcome.plan
                res.planned = dict(Counter(a.action for a in plan.actions))
                res.errors = [f"{e.policy + ': ' if e.policy else ''}{e.message}" for e in plan.errors]
                res.transit = sum(len(set(pp.transit)) for pp in outcome.per_policy.values())
                for e in res.errors:
                    log.warning("plan error: %s", e)
                if plan.errors and plan.actions and not dry_run:  # as orch apply (issue 12.1): nothing from it
                    log.warning("the plan has %d error(s); nothing of it is applied this cycle", len(plan.errors))
                elif not dry_run and plan.actions:
                    res.report = ApplyReport()
                    _apply(plan, session, ledger, policies, stop, hooks, res.report)
    except StopRequested as exc:
        res.stopped = exc.signame
    except AuthError as exc:
        res.failure, res.auth_failure = str(exc), True
    except ConfigError as exc:
        res.failure, res.fatal = str(exc), True
    except OrchError as exc:  # platform unreachable, 5xx after retries, the lock held by a manual apply
        res.failure = str(exc)
    except Exception as exc:  # a bug must not end months of watching; it is logged and retried
        log.debug("cycle failed", exc_info=True)
        res.failure = f"internal error: {type(exc).__name__}: {exc}"
    res.seconds = time.monotonic() - t0
    return res


def _apply(plan: Plan, session: Session, ledger: Ledger, policies, stop: StopFlag, hooks: CycleHooks,
           report: ApplyReport) -> None:
    def on_start(action: PlannedAction) -> None:
        stop.before_action()
        if hooks.on_action_start:
            hooks.on_action_start(action)

    def on_result(r: ActionResult) -> None:
        report.add(r)
        stop.after_action()
        level = logging.INFO if r.ok else logging.WARNING
        log.log(level, "%s %s %s [%s]%s", r.outcome.value, r.action.action, r.action.resource.label(),
                r.action.policy, f": {r.message}" if r.message else "")
        if hooks.on_result:
            hooks.on_result(r)

    ctx = ApplyContext(session.ica, session.bssh, ledger, session.now)
    applier = Applier(ctx, protect=load_protect(policies), allows=_allows(policies),
                      on_start=on_start, on_result=on_result)
    stop.after_action()
    applier.apply(plan)
