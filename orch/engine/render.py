"""Showing plans and apply results: Rich table, JSON, Markdown (Jinja2), live progress.

Everything renders to a string through an explicit console width so output never depends on
the terminal it happens to run in; ``print_plan`` / ``ApplyProgress`` write to a given console.

Markers (Terraform-like): ``+`` adds (link, manifest, mark_managed, tag), ``~`` changes a
storage tier (archive, unarchive), ``!`` destroys (delete, purge_trash, and ``unarchive``
whose ``then`` is ``delete`` — the first step of a two-phase delete). Destructive rows are bold red.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

import jinja2
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from orch.engine.plan import ACTION_ORDER, ActionResult, ApplyReport, Outcome, Plan, PlannedAction

DEFAULT_WIDTH = 120
FORMATS = ("table", "json", "markdown")

_PHRASES = {
    "link": "{n} to link",
    "manifest": "{n} manifest{s}",
    "mark_managed": "{n} to mark managed",
    "tag": "{n} to tag",
    "archive": "{n} to archive",
    "unarchive": "{n} to unarchive",
    "delete": "{n} to delete",
    "purge_trash": "{n} trash purge{s}",
}
_ADD = {"link", "manifest", "mark_managed", "tag"}

_OUTCOME_STYLE = {
    Outcome.DONE: ("✓", "green"),
    Outcome.SKIPPED: ("=", "dim"),
    Outcome.REFUSED_STALE: ("!", "yellow"),
    Outcome.REFUSED: ("!", "yellow"),
    Outcome.FAILED: ("✗", "bold red"),
    Outcome.NOT_RUN: ("-", "dim red"),
}


# ---------------------------------------------------------------- shared text
def marker(action: PlannedAction) -> str:
    if action.destructive:
        return "!"
    return "+" if action.action in _ADD else "~"


def resource_label(action: PlannedAction) -> str:
    """``kind label`` — the path or name a person recognises (the id when there is nothing else)."""
    r = action.resource
    if r.kind == "bssh.trash":
        return "bssh.trash (the whole BaseSpace trash)"
    return f"{r.kind} {r.label()}"


def param_details(action: PlannedAction) -> str:
    """The parameters that matter to a reviewer, in a few words ("" when none)."""
    p = action.params
    to = p.get("to_project") or p.get("to_project_id")
    if action.action == "link" and to:
        return f"into {to}"
    if action.action == "manifest":
        rows = p.get("rows")
        where = f" in {to}" if to else ""
        return f"{p.get('path', '')}{where}" + (f" ({rows} row{'s' if rows != 1 else ''})" if rows is not None else "")
    if action.action == "unarchive" and p.get("then") == "delete":
        return "then delete, in a later run once it is available"
    if action.action == "tag" and p:
        return ", ".join(f"{k}={v}" for k, v in sorted(p.items()))
    return ""


def full_reason(action: PlannedAction) -> str:
    text = action.reason
    if action.won_over:
        text += f" (won over {', '.join(action.won_over)})"
    return text


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def summary_phrases(actions: Iterable[PlannedAction]) -> list[str]:
    actions = list(actions)
    counts = Counter(a.action for a in actions)
    then_delete = sum(1 for a in actions if a.action == "unarchive" and a.params.get("then") == "delete")
    kinds = [k for k in ACTION_ORDER if counts[k]] + sorted(k for k in counts if k not in ACTION_ORDER)
    out = []
    for kind in kinds:
        n = counts[kind]
        phrase = _PHRASES.get(kind, "{n} " + kind).format(n=n, s=_plural(n))
        if kind == "unarchive" and then_delete:
            phrase += " (then delete)" if then_delete == n else f" ({then_delete} then delete)"
        out.append(phrase)
    return out


def summary_line(plan: Plan) -> str:
    """``Plan: 12 to link, 1 manifest, 3 to archive, 2 to delete.`` or ``No changes.`` (+ errors)."""
    phrases = summary_phrases(plan.actions)
    line = f"Plan: {', '.join(phrases)}." if phrases else "No changes."
    if plan.errors:
        n = len(plan.errors)
        line += f" {n} error{_plural(n)}: the plan is incomplete."
    return line


def group_by_policy(actions: Iterable[PlannedAction]) -> list[tuple[str, str, list[PlannedAction]]]:
    """(policy, group, actions) in plan order; within a policy, actions grouped by kind (stable)."""
    groups: dict[str, list[PlannedAction]] = {}
    for a in actions:
        groups.setdefault(a.policy, []).append(a)
    out = []
    for policy, items in groups.items():
        rank = {k: i for i, k in enumerate(dict.fromkeys(a.action for a in items))}
        items = sorted(items, key=lambda a: rank[a.action])
        out.append((policy, items[0].group, items))
    return out


# ---------------------------------------------------------------- table
def make_console(width: int = DEFAULT_WIDTH, color: bool = False, file: Any = None) -> Console:
    """A console of fixed width; without ``file`` it records to a string (``console.file.getvalue()``)."""
    return Console(file=file if file is not None else io.StringIO(), width=width, force_terminal=color,
                   color_system="standard" if color else None, no_color=not color, highlight=False,
                   emoji=False, soft_wrap=False, legacy_windows=False)


def plan_renderable(plan: Plan) -> RenderableType:
    """Tables per policy, the errors panel and the destructive warning (not the summary line)."""
    parts: list[RenderableType] = []
    if plan.actions:
        legend = Text("Markers: ", style="dim")
        legend.append("+", style="green")
        legend.append(" adds  ", style="dim")
        legend.append("~", style="yellow")
        legend.append(" changes the storage tier  ", style="dim")
        legend.append("!", style="bold red")
        legend.append(" destroys data (or is the first step of a delete)", style="dim")
        parts.append(legend)
    for policy, group, items in group_by_policy(plan.actions):
        title = f"{policy}" + (f" (group {group})" if group else "")
        table = Table(title=title, title_justify="left", title_style="bold", expand=True, show_lines=False)
        table.add_column("", no_wrap=True, width=1)
        table.add_column("action", no_wrap=True)
        table.add_column("resource", overflow="fold", ratio=3)
        table.add_column("reason", overflow="fold", ratio=4)
        previous = None
        for a in items:
            if previous is not None and a.action != previous:
                table.add_section()
            previous = a.action
            style = "bold red" if a.destructive else ""
            resource = Text(resource_label(a))
            if a.resource.label() != a.resource.id and a.resource.kind != "bssh.trash":
                resource.append(f"\n{a.resource.id}", style="dim")
            reason = Text(full_reason(a))
            details = param_details(a)
            if details:
                reason.append(f"\n{details}", style="dim")
            table.add_row(Text(marker(a), style=style or ("green" if a.action in _ADD else "yellow")),
                          Text(a.display_action(), style=style), resource, reason)
        parts.append(table)
    if plan.errors:
        lines = Text()
        for i, e in enumerate(plan.errors):
            if i:
                lines.append("\n")
            lines.append(f"✗ {e.policy or '(all policies)'}: ", style="bold red")
            lines.append(e.message)
        parts.append(Panel(lines, title=f"{len(plan.errors)} error{_plural(len(plan.errors))}",
                           title_align="left", border_style="bold red"))
    destructive = plan.destructive_actions
    if destructive:
        n = len(destructive)
        parts.append(Text(f"! {n} destructive action{_plural(n)}: data will be deleted.", style="bold red"))
    return Group(*parts)


def print_table(plan: Plan, console: Console) -> None:
    """The table view; the summary line is never wrapped (scripts and people grep it)."""
    console.print(plan_renderable(plan))
    console.print(Text(summary_line(plan), style="bold red" if plan.errors else "bold"), soft_wrap=True)


def render_table(plan: Plan, width: int = DEFAULT_WIDTH, color: bool = False) -> str:
    console = make_console(width, color)
    print_table(plan, console)
    return console.file.getvalue()


# ---------------------------------------------------------------- json / markdown
def render_json(plan: Plan) -> str:
    return plan.to_json()


def _md_cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _md_code(value: Any) -> str:
    text = str(value).replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("orch", "templates"), autoescape=False, trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
)
_env.filters["cell"] = _md_cell
_env.filters["code"] = _md_code


@dataclass
class _Row:
    marker: str
    action: str
    destructive: bool
    kind: str
    label: str
    id: str
    reason: str
    details: str


def _rows(items: list[PlannedAction]) -> list[_Row]:
    return [_Row(marker(a), a.display_action(), a.destructive, a.resource.kind, a.resource.label(),
                 a.resource.id, full_reason(a), param_details(a)) for a in items]


def render_markdown(plan: Plan) -> str:
    """Markdown for a pull-request comment or a ticket (orch/templates/plan.md.j2)."""
    destructive = plan.destructive_actions
    context = {
        "plan": plan,
        "summary_line": summary_line(plan),
        "now": plan.to_dict()["now"],
        "policies": [{"name": p, "group": g, "summary": ", ".join(summary_phrases(items)), "rows": _rows(items)}
                     for p, g, items in group_by_policy(plan.actions)],
        "destructive": _rows(destructive),
        "destructive_summary": ", ".join(summary_phrases(destructive)),
        "errors": plan.errors,
        "policy_files": plan.policy_files,
        "vars": sorted(plan.vars.items()),
    }
    return _env.get_template("plan.md.j2").render(**context)


def render_plan(plan: Plan, fmt: str, width: int = DEFAULT_WIDTH, color: bool = False) -> str:
    if fmt == "table":
        return render_table(plan, width, color)
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}; use {', '.join(FORMATS)}")


def print_plan(plan: Plan, fmt: str, console: Console | None = None) -> None:
    """Write the plan to ``console`` (default: stdout). JSON and Markdown are written verbatim."""
    console = console or Console()
    if fmt == "table":
        print_table(plan, console)
    else:
        console.file.write(render_plan(plan, fmt))
        console.file.flush()


# ---------------------------------------------------------------- apply
def result_line(result: ActionResult) -> Text:
    symbol, style = _OUTCOME_STYLE[result.outcome]
    a = result.action
    text = Text()
    text.append(f"{symbol} {result.outcome.value:<13} ", style=style)
    text.append(f"{a.display_action()} ", style="bold red" if a.destructive else "")
    text.append(resource_label(a))
    if result.message:
        text.append(f" — {result.message}", style="dim" if result.ok else style)
    return text


class ApplyProgress:
    """Live progress of an apply: a bar, plus one line per finished action printed above it.

    Thread-safe (Rich's Progress locks internally), so executor threads may call ``finish``.
    """

    def __init__(self, total: int, console: Console | None = None, transient: bool = True):
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]apply"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}", style="dim"),
            console=self.console, transient=transient, auto_refresh=self.console.is_terminal)
        self._task = self._progress.add_task("", total=total)

    def __enter__(self) -> "ApplyProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, action: PlannedAction) -> None:
        self._progress.update(self._task, description=f"{action.display_action()} {action.resource.label()}")

    def finish(self, result: ActionResult) -> None:
        self._progress.console.print(result_line(result))
        self._progress.advance(self._task)


def apply_summary_line(report: ApplyReport) -> str:
    counts = report.counts
    if not counts:
        return "Apply: nothing to do."
    body = ", ".join(f"{n} {k.replace('-', ' ')}" for k, n in counts.items())
    if report.exit_code == 0:
        return f"Apply complete: {body}."
    bad = sum(n for k, n in counts.items() if not Outcome(k).ok)
    return f"Apply finished with {bad} action{_plural(bad)} not done: {body}."


def apply_summary_renderable(report: ApplyReport, max_ok_rows: int = 50) -> RenderableType:
    """A table of results (no summary line). Problems are always listed; done/skipped rows only
    while there are at most ``max_ok_rows`` of them."""
    ok = [r for r in report.results if r.ok]
    show_ok = len(ok) <= max_ok_rows
    table = Table(title="Apply results", title_justify="left", title_style="bold")
    table.add_column("", no_wrap=True, width=1)
    table.add_column("outcome", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("resource", overflow="fold", ratio=3)
    table.add_column("policy", overflow="fold", ratio=1)
    table.add_column("message", overflow="fold", ratio=3)
    for r in report.results:
        if r.ok and not show_ok:
            continue
        symbol, style = _OUTCOME_STYLE[r.outcome]
        a = r.action
        table.add_row(Text(symbol, style=style), Text(r.outcome.value, style=style),
                      Text(a.display_action(), style="bold red" if a.destructive else ""),
                      resource_label(a), a.policy, r.message)
    parts: list[RenderableType] = []
    if table.row_count:
        parts.append(table)
    if not show_ok:
        parts.append(Text(f"({len(ok)} done or already-done actions not listed)", style="dim"))
    return Group(*parts)


def print_apply_summary(report: ApplyReport, console: Console, max_ok_rows: int = 50) -> None:
    console.print(apply_summary_renderable(report, max_ok_rows))
    console.print(Text(apply_summary_line(report), style="bold" if report.exit_code == 0 else "bold red"),
                  soft_wrap=True)


def render_apply_summary(report: ApplyReport, width: int = DEFAULT_WIDTH, max_ok_rows: int = 50) -> str:
    console = make_console(width)
    print_apply_summary(report, console, max_ok_rows)
    return console.file.getvalue()
