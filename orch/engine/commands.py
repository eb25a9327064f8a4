"""``orch plan`` and ``orch apply``: wire settings, policies, connectors, planner and applier.

Exit codes (contracts section 1): 0 success; 1 any error, a policy that failed closed, or any
action not done; 2 only for ``plan --detailed-exitcode`` when there are changes.
"""

from __future__ import annotations

import os
import fnmatch
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from orch.engine.applier import Applier
from orch.engine.context import PlanContext
from orch.engine.executors import ApplyContext
from orch.engine.ledger import Ledger
from orch.engine.limits import Protect
from orch.engine.plan import Plan
from orch.engine.planner import PlanOutcome, build_plan
from orch.engine.render import ApplyProgress, print_apply_summary, print_plan
from orch.engine.session import Session
from orch.errors import ConfigError, OrchError
from orch.policy.loader import build_files, load_policies
from orch.policy.model import PolicySet
from orch.settings import DEFAULT_STATE, SANDBOX_DIR, RunSettings

# ---------------------------------------------------------------- consoles
def _stdout() -> Console:
    tty = sys.stdout.isatty()
    return Console(file=sys.stdout, width=None if tty else 120, highlight=False, soft_wrap=False,
                   no_color=not tty or bool(os.environ.get("NO_COLOR")), emoji=False)


def _stderr() -> Console:
    tty = sys.stderr.isatty()
    return Console(file=sys.stderr, width=None if tty else 120, highlight=False, soft_wrap=False,
                   no_color=not tty or bool(os.environ.get("NO_COLOR")), emoji=False)


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def state_path(settings: RunSettings) -> str:
    """The ledger. With ``--sandbox`` and no ``--state`` it lives with the sandbox state in
    .orch/sandbox/, so sandbox runs never touch the real ledger and ``orch sandbox reset`` forgets both."""
    if settings.state:  # given (--state or ORCH_STATE), even when it is the default path
        return settings.state
    return str(Path(SANDBOX_DIR) / "state.db") if settings.sandbox else DEFAULT_STATE


# ---------------------------------------------------------------- protect list
def load_protect(policies: PolicySet | None) -> Protect:
    """The global protect list: the union of the loaded policy files' ``protect:`` lists."""
    return Protect.from_files(policies.files if policies else [])


# ---------------------------------------------------------------- planning
def make_plan(settings: RunSettings, session: Session, ledger: Ledger,
              policies: PolicySet | None = None) -> PlanOutcome:
    policies = policies or load_policies(settings.policy_paths, settings.var_overrides)
    notes = select_policies(policies, settings.only)
    ctx = PlanContext(session.ica, session.bssh, ledger, session.now, settings.concurrency)
    outcome = build_plan(policies, ctx, load_protect(policies))
    outcome.notes[:0] = notes
    return outcome


def select_policies(policies: PolicySet, only: list[str]) -> list[str]:
    """``--only GLOB``: plan just the policies whose names match; the others are left out (disabled).

    A glob that matches no policy is an error (a typo must not silently plan nothing). The protect
    lists of every loaded file still apply. Returns the notes to show.
    """
    if not only:
        return []
    names = [p.name for p in policies.policies]
    for pattern in only:
        if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
            raise ConfigError(f"--only {pattern!r} matches no policy; the loaded policies are: {', '.join(names)}")

    def records(p) -> bool:
        return p.enabled and any(spec.name == "mark_managed" for spec in p.actions)

    picked = [p for p in policies.policies if any(fnmatch.fnmatchcase(p.name, pat) for pat in only)]
    picked_names = {p.name for p in picked}  # names are unique across the loaded files (lint)
    left = [p for p in policies.policies if p.name not in picked_names and records(p)]
    if left and any(records(p) for p in picked):  # one ledger record per analysis: it would end the other's hand-off
        raise ConfigError(f"--only leaves out {left[0].name}, which also records analyses as handed off "
                          f"(mark_managed); select it too, or a record made without it stops it for good")
    notes = [f"--only: {p.name} is disabled in {p.file.path if p.file else 'its file'} (enabled: false); "
             f"it is not planned" for p in picked if not p.enabled]
    chosen = [p.name for p in picked if p.enabled]
    for p in policies.policies:
        if p.name not in picked_names:
            p.enabled = False
    notes.insert(0, f"--only: planning {len(chosen)} of {len(names)} policies: {', '.join(chosen) or 'none'}")
    return notes


def _show_plan(outcome: PlanOutcome, fmt: str) -> None:
    for n in outcome.notes:
        _note(n)
    print_plan(outcome.plan, fmt, _stdout())
    for e in outcome.plan.errors:  # errors also go to stderr, one sentence each (contracts section 1)
        print(f"error: {e.policy + ': ' if e.policy else ''}{e.message}", file=sys.stderr)


def plan_command(settings: RunSettings) -> int:
    policies = load_policies(settings.policy_paths, settings.var_overrides)
    with Session(settings) as session, Ledger(state_path(settings)) as ledger:
        outcome = make_plan(settings, session, ledger, policies)
    if settings.out:
        outcome.plan.save(settings.out)
    _show_plan(outcome, settings.format)
    if settings.out:
        _note(f"plan saved to {settings.out}; apply exactly this plan with `orch apply {settings.out}`")
    return outcome.plan.exit_code(settings.detailed_exitcode)


def show_command(plan_file: str, fmt: str) -> int:
    """``orch show PLAN.json``: a saved plan as a table, markdown or JSON (reads nothing else)."""
    plan = Plan.load(plan_file)
    print_plan(plan, fmt, _stdout())
    for e in plan.errors:
        print(f"error: {e.policy + ': ' if e.policy else ''}{e.message}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- applying
def _allows(policies: PolicySet | None) -> dict[str, bool]:
    return {p.name: bool(p.allow_destructive) for p in (policies.policies if policies else [])}


def _saved_plan_protect(plan: Plan) -> tuple[Protect, list[str]]:
    """The protect lists of the plan's policy files as they are now, changed or not (a protect
    entry added after the plan was made refuses its actions). A file that no longer loads is noted."""
    built, problems = build_files([f.path for f in plan.policy_files], {k: _var_text(v) for k, v in plan.vars.items()})
    loaded = {pf.path for pf in built}
    notes = [f"{f.path} cannot be loaded ({next((p for p in problems if p.path == f.path), 'see orch lint')}); "
             f"its protect list is not applied" for f in plan.policy_files if f.path not in loaded]
    return Protect.from_files(built), notes


def _saved_plan_policies(plan: Plan) -> tuple[PolicySet | None, list[str]]:
    """Reload the policy files a saved plan was made from (with its variables) to know which
    policies may destroy. Files that changed since the plan do not count."""
    problems: list[str] = []
    if not plan.policy_files:
        return None, problems
    try:
        policies = load_policies([f.path for f in plan.policy_files], {k: _var_text(v) for k, v in plan.vars.items()})
    except OrchError as exc:
        return None, [f"the plan's policy files cannot be loaded ({exc}); destructive actions are refused"]
    want = {f.path: f.sha256 for f in plan.policy_files}
    kept = []
    for pf in policies.files:
        if want.get(pf.path) == pf.sha256:
            kept.append(pf)
        else:
            problems.append(f"{pf.path} changed since the plan was made; its destructive actions are refused")
    return PolicySet(files=kept), problems


def _var_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _confirm(plan: Plan) -> bool:
    if not stdin_is_terminal():
        raise ConfigError("refusing to apply without --yes: stdin is not a terminal, so nobody can confirm "
                          "(review with `orch plan --out PLAN.json`, then `orch apply PLAN.json`)")
    import typer

    n = len(plan.actions)
    destructive = len(plan.destructive_actions)
    extra = f", {destructive} of them destructive" if destructive else ""
    return typer.confirm(f"Apply these {n} action{'s' if n != 1 else ''}{extra}?", default=False, err=True)


def run_apply(plan: Plan, session: Session, ledger: Ledger, policies: PolicySet | None,
              protect: Protect, show_progress: bool = True):
    ctx = ApplyContext(session.ica, session.bssh, ledger, session.now)
    err = _stderr()
    with ledger.apply_lock():
        if show_progress:
            with ApplyProgress(len(plan.actions), console=err) as progress:
                applier = Applier(ctx, protect=protect, allows=_allows(policies),
                                  on_start=progress.start, on_result=progress.finish)
                return applier.apply(plan)
        return Applier(ctx, protect=protect, allows=_allows(policies)).apply(plan)


def _warn_future(settings: RunSettings, session: Session) -> None:
    """Applying "as of" a future --now acts on data that is not that old yet: say so loudly."""
    if settings.now is None or settings.sandbox:
        return
    from orch.timeutil import utcnow

    ahead = settings.now - utcnow()
    if ahead.total_seconds() > 3600:
        _note(f"--now is {ahead.total_seconds() / 86400:.1f} days ahead of the real clock: every age is computed as "
              f"of {settings.now.isoformat()}, so data younger than the policies' ages may be acted on")


def apply_command(settings: RunSettings) -> int:
    with Session(settings) as session, Ledger(state_path(settings)) as ledger:
        _warn_future(settings, session)
        if settings.plan_file:
            plan = Plan.load(settings.plan_file)
            policies, problems = _saved_plan_policies(plan)
            protect, protect_problems = _saved_plan_protect(plan)
            for p in problems + protect_problems:
                _note(p)
            if plan.errors:
                _note(f"the saved plan has {len(plan.errors)} error(s); its actions are applied, the exit code is 1")
        else:
            policies = load_policies(settings.policy_paths, settings.var_overrides)
            protect = load_protect(policies)
            outcome = make_plan(settings, session, ledger, policies)
            plan = outcome.plan
            _show_plan(outcome, settings.format)
            if not plan.actions:
                return plan.exit_code()
            if not settings.yes and not _confirm(plan):
                print("Apply cancelled; nothing was changed.", file=sys.stderr)
                return 1
        if not plan.actions:
            print("No changes.")
            return plan.exit_code()
        report = run_apply(plan, session, ledger, policies, protect)
    # with --format json stdout stays one JSON document (the plan); the results go to stderr
    print_apply_summary(report, _stderr() if settings.format == "json" else _stdout())
    return 1 if (report.exit_code or plan.errors) else 0
