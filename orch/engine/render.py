"""Showing plans and apply results: Rich table, JSON, Markdown (Jinja2), live progress.

Everything renders to a string through an explicit console width so output never depends on
the terminal it happens to run in; ``print_plan`` / ``ApplyProgress`` write to a given console.

Markers (Terraform-like, each action class's ``marker``): ``+`` adds (link, manifest, mark_managed,
tag), ``~`` changes a storage tier (archive, unarchive), ``!`` destroys (every destructive action:
delete, purge_trash, and ``unarchive`` whose ``then`` is ``delete`` — the first step of a two-phase
delete). Destructive rows are bold red. Phrases and parameter details come from the action classes too.

The table is for people: one short line per resource (a file's base name, a folder's last
segments; the kind and id on a dim second line from ``WIDE`` columns on), a reason stated once per
block of actions sharing it, and above ``MAX_ROWS`` actions counts per policy and action (every
destructive action still listed). Full paths and ids are in ``--format json`` and ``markdown``.
Apply shows a progress bar on a terminal and one line per action elsewhere (cron logs); the
summary lists every action not done in full, then one Terraform-like line.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

import jinja2
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from orch.engine.kinds import kind, ordered
from orch.engine.plan import ActionResult, ApplyReport, Outcome, Plan, PlannedAction, ResourceRef

DEFAULT_WIDTH = 120
WIDE = 160  # from this console width on, the table shows each resource's id on a dim second line
MAX_ROWS = 500  # above this many actions the table counts per policy and action instead of listing
SHORT_LIMIT = 60  # longest short name in a table cell
FOLDER_LIMIT = 44  # longest short name of a folder (its analysis folder's start and its own name)
EXAMPLES = 3  # resources named per row of the large-plan summary
FORMATS = ("table", "json", "markdown")

_MARKER_STYLE = {"+": "green", "~": "yellow", "!": "bold red"}

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
    cls = kind(action.action)
    return cls.marker if cls is not None else "~"


def _phrase(name: str, n: int, done: bool = False) -> str:
    cls = kind(name)
    return cls.phrase(n, done) if cls is not None else f"{n} {name}"


def resource_label(action: PlannedAction) -> str:
    """``kind label`` — the full path or name a person recognises (the id when there is nothing else)."""
    r = action.resource
    if r.kind == "bssh.trash":
        return "bssh.trash (the whole BaseSpace trash)"
    return f"{r.kind} {r.label()}"


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping its start (run ids begin names) and its end."""
    if len(text) <= limit:
        return text
    tail = max(limit // 3, 1)
    return text[:limit - tail - 1] + "…" + text[-tail:]


def short_name(resource: ResourceRef, limit: int = SHORT_LIMIT) -> str:
    """A compact name for one table line: a file's base name; a folder's last two path segments
    (the analysis folder cut after its run id); an analysis' user reference; else name or id."""
    if resource.kind == "bssh.trash":
        return "the whole BaseSpace trash"
    if resource.kind == "ica.analysis":
        return _cut(str(resource.extra.get("user_reference") or resource.name or resource.id), limit)
    path = resource.path
    if not path:
        return _cut(resource.name or resource.id, limit)
    segments = [s for s in path.split("/") if s]
    if not segments:
        return path
    if not path.endswith("/"):
        return _cut(segments[-1], limit)
    last = segments[-1] + "/"
    if len(segments) == 1:
        return _cut("/" + last, limit)
    room = max(min(limit, FOLDER_LIMIT) - len(last) - 1, 8)
    parent = segments[-2]
    if len(parent) > room:  # an ICA analysis folder: <user reference>-<pipeline>-<uuid>
        head = parent.split("-", 1)[0]
        parent = (head if len(head) < room else head[:room - 1]) + "…"
    return _cut(f"{parent}/{last}", limit)


def short_label(action: PlannedAction) -> str:
    """``kind short-name``: what the table and the apply lines show (full path and id: JSON, Markdown)."""
    r = action.resource
    if r.kind == "bssh.trash":
        return "bssh.trash (the whole BaseSpace trash)"
    return f"{r.kind} {short_name(r)}"


def param_details(action: PlannedAction, short: bool = False) -> str:
    """The parameters that matter to a reviewer, in a few words ("" when none; the kind's ``details``).
    ``short``: cut to fit a table line (Markdown and JSON keep the full path)."""
    cls = kind(action.action)
    return cls.details(action.params, short) if cls is not None else ""


def full_reason(action: PlannedAction) -> str:
    text = action.reason
    if action.won_over:
        text += f" (won over {', '.join(action.won_over)})"
    return text


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def summary_phrases(actions: Iterable[PlannedAction]) -> list[str]:
    params: dict[str, list[dict[str, Any]]] = {}
    for a in actions:
        params.setdefault(a.action, []).append(a.params)
    out = []
    for name in ordered(params):
        cls = kind(name)
        out.append(_phrase(name, len(params[name])) + (cls.summary_note(params[name]) if cls is not None else ""))
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


def reason_blocks(items: list[PlannedAction]) -> list[list[PlannedAction]]:
    """Consecutive actions of one kind with the same reason and details (the files of one
    analysis' hand-off): the table states the reason once per block."""
    blocks: list[list[PlannedAction]] = []
    key = None
    for a in items:
        k = (a.action, full_reason(a), param_details(a, short=True), a.destructive)
        if blocks and k == key:
            blocks[-1].append(a)
        else:
            blocks.append([a])
            key = k
    return blocks


# ---------------------------------------------------------------- table
def make_console(width: int = DEFAULT_WIDTH, color: bool = False, file: Any = None) -> Console:
    """A console of fixed width; without ``file`` it records to a string (``console.file.getvalue()``)."""
    return Console(file=file if file is not None else io.StringIO(), width=width, force_terminal=color,
                   color_system="standard" if color else None, no_color=not color, highlight=False,
                   emoji=False, soft_wrap=False, legacy_windows=False)


def _legend(hint: bool = True) -> Text:
    legend = Text("Markers: ", style="dim")
    legend.append("+", style="green")
    legend.append(" adds  ", style="dim")
    legend.append("~", style="yellow")
    legend.append(" changes the storage tier  ", style="dim")
    legend.append("!", style="bold red")
    legend.append(" destroys data (or is the first step of a delete)", style="dim")
    if hint:
        legend.append("\nFull paths and ids: orch plan --format json or --format markdown", style="dim")
    return legend


def _marker_text(a: PlannedAction) -> Text:
    m = marker(a)
    return Text(m, style=_MARKER_STYLE.get(m, "yellow"))


def _reason_text(a: PlannedAction, block_size: int) -> Text:
    reason = Text(full_reason(a))
    details = param_details(a, short=True)
    if details and details not in reason.plain:
        reason.append(f" — {details}", style="dim")
    if block_size > 1:
        reason.append(f" [{block_size} {a.display_action()}s]", style="dim")
    return reason


def _policy_table(policy: str, group: str, items: list[PlannedAction], width: int,
                  show_policy: bool = False) -> Table:
    title = f"{policy}" + (f" (group {group})" if group else "") + f": {', '.join(summary_phrases(items))}"
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, show_lines=False)
    table.add_column("", no_wrap=True, width=1)
    if show_policy:
        table.add_column("policy", overflow="fold")
    table.add_column("action", no_wrap=True)
    table.add_column("resource", overflow="fold", max_width=SHORT_LIMIT)  # as wide as its names: one line each
    table.add_column("reason", overflow="fold", ratio=1)
    previous = None
    wide = width >= WIDE
    for block in reason_blocks(items):
        first = block[0]
        if previous is not None and (first.action != previous or len(block) > 1):
            table.add_section()
        for i, a in enumerate(block):
            style = "bold red" if a.destructive else ""
            resource = Text(short_name(a.resource))
            if wide and a.resource.kind != "bssh.trash":
                resource.append(f"\n{a.resource.kind} {a.resource.id}", style="dim")
            reason = _reason_text(a, len(block)) if i == 0 else Text("″", style="dim")
            cells = [_marker_text(a)] + ([Text(a.policy)] if show_policy else [])
            table.add_row(*cells, Text(a.display_action(), style=style), resource, reason)
        previous = block[-1].action
        if len(block) > 1:
            previous = ""  # a section after a block too
    return table


def _summary_table(plan: Plan) -> Table:
    """Large plans: one row per policy and action kind, with counts and the first resources."""
    table = Table(title="Actions per policy", title_justify="left", title_style="bold", expand=True)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("policy", overflow="fold")
    table.add_column("action", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("for example", no_wrap=True, overflow="ellipsis", ratio=3)
    for policy, group, items in group_by_policy(plan.actions):
        for kind_items in reason_kinds(items):
            a = kind_items[0]
            names = list(dict.fromkeys(short_name(x.resource) for x in kind_items[:EXAMPLES * 4]))[:EXAMPLES]
            examples = ", ".join(names) + (", …" if len(kind_items) > len(names) else "")
            style = "bold red" if a.destructive else ""
            table.add_row(_marker_text(a), policy,
                          Text(a.display_action(), style=style), Text(str(len(kind_items)), style=style), examples)
    return table


def _destructive_table(destructive: list[PlannedAction]) -> Table:
    """Large plans: every destructive action on one line (policy, action, resource; reasons: JSON/Markdown)."""
    table = Table(title=f"Every destructive action: {', '.join(summary_phrases(destructive))}",
                  title_justify="left", title_style="bold red", expand=True)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("policy", no_wrap=True, overflow="ellipsis")
    table.add_column("action", no_wrap=True)
    table.add_column("resource", no_wrap=True, overflow="ellipsis", ratio=1)
    for a in destructive:
        table.add_row(_marker_text(a), a.policy, Text(a.display_action(), style="bold red"),
                      f"{a.resource.kind} {short_name(a.resource)}")
    return table


def reason_kinds(items: list[PlannedAction]) -> list[list[PlannedAction]]:
    """``items`` (one policy, grouped by kind) split by displayed action (``unarchive → delete`` apart)."""
    out: dict[str, list[PlannedAction]] = {}
    for a in items:
        out.setdefault(a.display_action(), []).append(a)
    return list(out.values())


def plan_renderables(plan: Plan, width: int = DEFAULT_WIDTH, max_rows: int = MAX_ROWS) -> list[RenderableType]:
    """Tables per policy (or, above ``max_rows`` actions, counts per policy and action with every
    destructive action still listed), the errors panel and the destructive warning (not the
    summary line). Printed one by one, so a long plan streams instead of being laid out at once."""
    parts: list[RenderableType] = []
    listed = len(plan.actions) <= max_rows
    if plan.actions:
        parts.append(_legend(listed))
    if listed:
        for policy, group, items in group_by_policy(plan.actions):
            parts.append(_policy_table(policy, group, items, width))
    else:
        n = len(plan.actions)
        parts.append(Text(f"{n} actions: too many to list one per line, so they are counted per policy and action. "
                          "The full list (paths, ids, reasons): orch plan --format json, or --format markdown.",
                          style="bold"))
        parts.append(_summary_table(plan))
        destructive = plan.destructive_actions
        if destructive and len(destructive) <= max_rows:
            parts.append(_destructive_table(destructive))
        elif destructive:
            parts.append(Text(f"The {len(destructive)} destructive actions are too many to list here: review them "
                              "with --format json or --format markdown before applying.", style="bold red"))
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
    return parts


def print_table(plan: Plan, console: Console, max_rows: int = MAX_ROWS) -> None:
    """The table view; the summary line is never wrapped (scripts and people grep it)."""
    for part in plan_renderables(plan, console.width, max_rows):
        console.print(part)
    console.print(Text(summary_line(plan), style="bold red" if plan.errors else "bold"), soft_wrap=True)


def render_table(plan: Plan, width: int = DEFAULT_WIDTH, color: bool = False, max_rows: int = MAX_ROWS) -> str:
    console = make_console(width, color)
    print_table(plan, console, max_rows)
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
    same: bool = False  # same reason as the row above (the files of one analysis)


def _rows(items: list[PlannedAction]) -> list[_Row]:
    rows = []
    for block in reason_blocks(items):
        for i, a in enumerate(block):
            reason = full_reason(a)
            details = param_details(a)
            if details and details in reason:
                details = ""
            if len(block) > 1:
                reason += f" [{len(block)} {a.display_action()}s]"
            rows.append(_Row(marker(a), a.display_action(), a.destructive, a.resource.kind, a.resource.label(),
                             a.resource.id, reason, details, same=i > 0))
    return rows


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
def result_line(result: ActionResult, full: bool = False) -> Text:
    """One line per result: ``✓ done          link M-1_R1.fastq.gz — message``. ``full``: the
    kind, full path and id (for problems, so they can be found and retried)."""
    symbol, style = _OUTCOME_STYLE[result.outcome]
    a = result.action
    text = Text()
    text.append(f"{symbol} {result.outcome.value:<13} ", style=style)
    text.append(f"{a.display_action()} ", style="bold red" if a.destructive else "")
    if full:
        text.append(resource_label(a))
        if a.resource.kind != "bssh.trash" and a.resource.label() != a.resource.id:
            text.append(f" ({a.resource.id})", style="dim")
        text.append(f" [{a.policy}]", style="dim")
    else:
        text.append(short_label(a))
    if result.message:
        text.append(f" — {result.message}", style="dim" if result.ok else style)
    return text


class ApplyProgress:
    """Live progress of an apply.

    On a terminal: a Rich progress bar (counts of failures in its description); problems are
    printed above it as they happen. Elsewhere (cron, CI logs): one plain line per finished
    action, nothing redrawn. Thread-safe (Rich's Progress and Console lock), so executor threads
    may call ``finish``.
    """

    def __init__(self, total: int, console: Console | None = None, transient: bool = True,
                 bar: bool | None = None):
        self.console = console or Console(stderr=True)
        self.bar = self.console.is_terminal if bar is None else bar
        self._problems = 0
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        if self.bar:
            self._progress = Progress(
                TextColumn("[bold]apply"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.description}", style="dim"),
                console=self.console, transient=transient)
            self._task = self._progress.add_task("", total=total)

    def __enter__(self) -> "ApplyProgress":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _description(self, action: PlannedAction | None) -> str:
        now = f"{action.display_action()} {short_name(action.resource)}" if action is not None else ""
        bad = f"{self._problems} not done  " if self._problems else ""
        return bad + now

    def start(self, action: PlannedAction) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=self._description(action))

    def finish(self, result: ActionResult) -> None:
        if self._progress is None:
            line = result_line(result, full=not result.ok)
            if self.console.no_color or self.console.color_system is None:  # a log: plain text, fast
                with self._lock:
                    self.console.file.write(line.plain + "\n")
            else:
                self.console.print(line, soft_wrap=True)
            return
        if not result.ok:
            self._problems += 1
            self._progress.console.print(result_line(result, full=True), soft_wrap=True)
        self._progress.update(self._task, advance=1, description=self._description(None))


def done_phrases(report: ApplyReport) -> list[str]:
    """``12 linked``, ``2 manifests written``, ... for the actions done; ``3 already done``."""
    counts = Counter(r.action.action for r in report.results if r.outcome == Outcome.DONE)
    out = [_phrase(k, counts[k], done=True) for k in ordered(counts)]
    skipped = sum(1 for r in report.results if r.outcome == Outcome.SKIPPED)
    if skipped:
        out.append(f"{skipped} already done")
    return out


def apply_summary_line(report: ApplyReport) -> str:
    """Terraform-like: ``Apply complete! Resources: 12 linked, 2 manifests written, 1 already done.``
    or ``Apply failed: 2 of 29 actions not done (1 failed, 1 refused). Resources: ...``."""
    if not report.results:
        return "Apply: nothing to do."
    done = ", ".join(done_phrases(report)) or "none changed"
    if report.exit_code == 0:
        return f"Apply complete! Resources: {done}."
    bad = [r for r in report.results if not r.ok]
    counts = ", ".join(f"{n} {k}" for k, n in report.counts.items() if not Outcome(k).ok)
    return (f"Apply failed: {len(bad)} of {len(report.results)} action{_plural(len(report.results))} "
            f"not done ({counts}). Resources: {done}.")


def apply_summary_renderable(report: ApplyReport) -> RenderableType:
    """Every action that was not done, in full (kind, path, id, policy, why); nothing for the rest."""
    bad = [r for r in report.results if not r.ok]
    if not bad:
        return Group()
    lines = [Text(f"{len(bad)} action{_plural(len(bad))} not done:", style="bold red")]
    lines += [result_line(r, full=True) for r in bad]
    return Group(*lines)


def print_apply_summary(report: ApplyReport, console: Console) -> None:
    """The problems (never wrapped: one line each, for grep and mail) and the summary line."""
    for line in apply_summary_renderable(report).renderables:
        console.print(line, soft_wrap=True)
    console.print(Text(apply_summary_line(report), style="bold" if report.exit_code == 0 else "bold red"),
                  soft_wrap=True)


def render_apply_summary(report: ApplyReport, width: int = DEFAULT_WIDTH) -> str:
    console = make_console(width)
    print_apply_summary(report, console)
    return console.file.getvalue()
