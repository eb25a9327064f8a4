"""``orch plan`` and ``orch apply``: wire settings, policies, connectors, planner and applier.

Exit codes (contracts section 1): 0 success; 1 any error, a policy that failed closed, or any
action not done; 2 only for ``plan --detailed-exitcode`` when there are changes.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from orch.engine.applier import Applier
from orch.engine.context import PlanContext
from orch.engine.executors import ApplyContext
from orch.engine.ledger import Ledger
from orch.engine.limits import Protect
from orch.engine.plan import Plan
from orch.engine.planner import PlanOutcome, build_plan
from orch.engine.render import ApplyProgress, apply_summary_line, plan_renderables, print_plan, summary_line
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


def show_plan(plan: Plan, fmt: str, notes: list[str] = ()) -> None:
    """The plan on stdout, its errors on stderr: each error is printed once (contracts section 1),
    so the table view leaves out its errors panel and keeps the summary line that counts them."""
    for n in notes:
        _note(n)
    if fmt == "table":
        console = _stdout()
        for part in plan_renderables(dataclasses.replace(plan, errors=[]), console.width):
            console.print(part)
        console.print(Text(summary_line(plan), style="bold red" if plan.errors else "bold"), soft_wrap=True)
    else:
        print_plan(plan, fmt, _stdout())
    print_errors(plan)


def print_errors(plan: Plan) -> None:
    for e in plan.errors:
        print(f"error: {e.policy + ': ' if e.policy else ''}{e.message}", file=sys.stderr)


def _show_plan(outcome: PlanOutcome, fmt: str) -> None:
    show_plan(outcome.plan, fmt, outcome.notes)


def reading_ledger(settings: RunSettings) -> Ledger:
    """The ledger for a command that only reads it (plan): a missing database is not created, an
    empty one is read instead (the first apply creates it)."""
    path = state_path(settings)
    if not Path(path).exists():
        return Ledger(":memory:")
    return _ReadOnly(Ledger(path, readonly=True))


class _ReadOnly:
    """A ledger that is only read: the bsshoutput.json cache is not written (plan changes nothing)."""

    def __init__(self, ledger: Ledger):
        self._ledger = ledger

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)

    def cache_put(self, key: Any, value: Any) -> None:
        return None

    def __enter__(self) -> "_ReadOnly":
        return self

    def __exit__(self, *exc: object) -> None:
        self._ledger.close()


def plan_command(settings: RunSettings) -> int:
    policies = load_policies(settings.policy_paths, settings.var_overrides)
    with Session(settings) as session, reading_ledger(settings) as ledger:
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
    show_plan(plan, fmt)
    return 0


def apply_refusal(plan: Plan) -> str | None:
    """Why this plan must not be applied at all, or None. A plan with errors applies nothing
    (Terraform never applies an errored plan); the message names the policies that planned
    cleanly, so ``--only`` can apply just those."""
    if not plan.errors:
        return None
    bad = {e.policy for e in plan.errors}
    clean = sorted({a.policy for a in plan.actions} - bad)
    n = len(plan.errors)
    hint = (f"; to apply only the policies that planned cleanly, plan again with "
            f"{' '.join('--only ' + c for c in clean)}" if clean and "" not in bad else "")
    return (f"apply refused: the plan has {n} error{'s' if n != 1 else ''}, so nothing was changed; "
            f"fix {'it' if n == 1 else 'them'} and plan again{hint}")


def refuse(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


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
    """Terraform's confirmation: the destructive count first, then only ``yes`` goes ahead."""
    if not stdin_is_terminal():
        raise ConfigError("refusing to apply without --yes: stdin is not a terminal, so nobody can confirm "
                          "(review with `orch plan --out PLAN.json`, then `orch apply PLAN.json`)")
    import typer

    n = len(plan.actions)
    destructive = len(plan.destructive_actions)
    if destructive:
        print(f"! {destructive} of these {n} action{'s' if n != 1 else ''} {'are' if destructive != 1 else 'is'} "
              f"destructive: data will be deleted.", file=sys.stderr)
    extra = f", {destructive} of them destructive" if destructive else ""
    answer = typer.prompt(f"Apply these {n} action{'s' if n != 1 else ''}{extra}? Only 'yes' will be accepted",
                          default="", show_default=False, err=True)
    return answer.strip() == "yes"


class _SavedFirst:
    """The ledger, with the --sandbox world saved before each write to it: a kill between the two
    leaves the world ahead of the ledger (like a platform that acted before orch recorded it, which
    the next run finds done), never the ledger ahead of the world."""

    def __init__(self, ledger: Ledger, save: Any):
        self._ledger = ledger
        self._save = save

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)

    def record(self, *args: Any, **kw: Any) -> Any:
        self._save()
        return self._ledger.record(*args, **kw)

    def mark_managed(self, *args: Any, **kw: Any) -> Any:
        self._save()
        return self._ledger.mark_managed(*args, **kw)


def run_apply(plan: Plan, session: Session, ledger: Ledger, policies: PolicySet | None,
              protect: Protect, show_progress: bool = True):
    """Apply ``plan``; the caller holds the apply lock (``ledger.apply_lock()``)."""
    writer = _SavedFirst(ledger, session.checkpoint) if session.sandbox is not None else ledger
    ctx = ApplyContext(session.ica, session.bssh, writer, session.now)
    err = _stderr()
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
    # The lock is taken first and held to the end: a second apply waits, then plans from (and, with
    # --sandbox, loads the world left by) the first one; the world is saved before the lock goes.
    with Ledger(state_path(settings)) as ledger, ledger.apply_lock(), Session(settings) as session:
        _warn_future(settings, session)
        if settings.plan_file:
            plan = Plan.load(settings.plan_file)
            policies, problems = _saved_plan_policies(plan)
            protect, protect_problems = _saved_plan_protect(plan)
            refusal = apply_refusal(plan)
            if refusal:
                show_plan(plan, settings.format)
                return refuse(refusal)
            for p in problems + protect_problems:
                _note(p)
        else:
            policies = load_policies(settings.policy_paths, settings.var_overrides)
            protect = load_protect(policies)
            outcome = make_plan(settings, session, ledger, policies)
            plan = outcome.plan
            _show_plan(outcome, settings.format)
            refusal = apply_refusal(plan)
            if refusal:
                return refuse(refusal)
            if not plan.actions:
                return plan.exit_code()
            if not settings.yes and not _confirm(plan):
                print("Apply cancelled; nothing was changed.", file=sys.stderr)
                return 1
        if not plan.actions:
            print("No changes.")
            return plan.exit_code()
        report = run_apply(plan, session, ledger, policies, protect)
    # with --format json stdout stays one JSON document (the plan); the results go to stderr. Each
    # problem was printed once as it happened (progress, stderr): only the summary line is left
    console = _stderr() if settings.format == "json" else _stdout()
    console.print(Text(apply_summary_line(report), style="bold" if report.exit_code == 0 else "bold red"),
                  soft_wrap=True)
    return 1 if (report.exit_code or plan.errors) else 0
