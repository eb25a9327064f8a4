"""Shared text of plans: markers, labels, short names, phrases, grouping (tables, Markdown, apply lines).

Markers (Terraform-like, each action class's ``marker``): ``+`` adds (link, manifest, mark_managed,
tag), ``~`` changes a storage tier (archive, unarchive), ``!`` destroys (every destructive action:
delete, purge_trash, and ``unarchive`` whose ``then`` is ``delete`` — the first step of a two-phase
delete). Destructive rows are bold red. Phrases and parameter details come from the action classes too.
"""

from __future__ import annotations

import io
from typing import Any, Iterable

from rich.console import Console

from orch.engine.kinds import kind, ordered
from orch.engine.plan import Plan, PlannedAction, ResourceRef

DEFAULT_WIDTH = 120
WIDE = 160  # from this console width on, the table shows each resource's id on a dim second line
MAX_ROWS = 500  # above this many actions the table counts per policy and action instead of listing
SHORT_LIMIT = 60  # longest short name in a table cell
FOLDER_LIMIT = 44  # longest short name of a folder (its analysis folder's start and its own name)
EXAMPLES = 3  # resources named per row of the large-plan summary
FORMATS = ("table", "json", "markdown")

MARKER_STYLE = {"+": "green", "~": "yellow", "!": "bold red"}


def marker(action: PlannedAction) -> str:
    if action.destructive:
        return "!"
    cls = kind(action.action)
    return cls.marker if cls is not None else "~"


def kind_phrase(name: str, n: int, done: bool = False) -> str:
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


def plural(n: int) -> str:
    return "" if n == 1 else "s"


def summary_phrases(actions: Iterable[PlannedAction]) -> list[str]:
    params: dict[str, list[dict[str, Any]]] = {}
    for a in actions:
        params.setdefault(a.action, []).append(a.params)
    out = []
    for name in ordered(params):
        cls = kind(name)
        out.append(kind_phrase(name, len(params[name])) + (cls.summary_note(params[name]) if cls is not None else ""))
    return out


def summary_line(plan: Plan) -> str:
    """``Plan: 12 to link, 1 manifest, 3 to archive, 2 to delete.`` or ``No changes.`` (+ errors)."""
    phrases = summary_phrases(plan.actions)
    line = f"Plan: {', '.join(phrases)}." if phrases else "No changes."
    if plan.errors:
        n = len(plan.errors)
        line += f" {n} error{plural(n)}: the plan is incomplete."
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


def make_console(width: int = DEFAULT_WIDTH, color: bool = False, file: Any = None) -> Console:
    """A console of fixed width; without ``file`` it records to a string (``console.file.getvalue()``)."""
    return Console(file=file if file is not None else io.StringIO(), width=width, force_terminal=color,
                   color_system="standard" if color else None, no_color=not color, highlight=False,
                   emoji=False, soft_wrap=False, legacy_windows=False)


def reason_kinds(items: list[PlannedAction]) -> list[list[PlannedAction]]:
    """``items`` (one policy, grouped by kind) split by displayed action (``unarchive → delete`` apart)."""
    out: dict[str, list[PlannedAction]] = {}
    for a in items:
        out.setdefault(a.display_action(), []).append(a)
    return list(out.values())
