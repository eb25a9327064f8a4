"""The plan table (Rich) for people.

One short line per resource (a file's base name, a folder's last segments; the kind and id on a dim
second line from ``WIDE`` columns on), a reason stated once per block of actions sharing it, and
above ``MAX_ROWS`` actions counts per policy and action (every destructive action still listed).
Full paths and ids are in ``--format json`` and ``markdown``. Everything renders through an
explicit console width so output never depends on the terminal it happens to run in.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from orch.engine.plan import Plan, PlannedAction
from orch.engine.plan_text import (DEFAULT_WIDTH, EXAMPLES, MARKER_STYLE, MAX_ROWS, SHORT_LIMIT, WIDE, plural,
                                   full_reason, group_by_policy, make_console, marker, param_details, reason_blocks,
                                   reason_kinds, short_name, summary_line, summary_phrases)


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
    return Text(m, style=MARKER_STYLE.get(m, "yellow"))


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
        parts.append(Panel(lines, title=f"{len(plan.errors)} error{plural(len(plan.errors))}",
                           title_align="left", border_style="bold red"))
    destructive = plan.destructive_actions
    if destructive:
        n = len(destructive)
        parts.append(Text(f"! {n} destructive action{plural(n)}: data will be deleted.", style="bold red"))
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
