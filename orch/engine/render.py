"""Showing plans and apply results: the formats (table, JSON, Markdown) and one import for callers.

The pieces: plan_text.py (markers, labels, phrases, grouping), plan_table.py (the Rich table),
plan_markdown.py (Markdown), apply_view.py (result lines, live progress, the apply summary).
"""

from __future__ import annotations

from rich.console import Console

from orch.engine.apply_view import (ApplyProgress, apply_summary_line, apply_summary_renderable,  # noqa: F401
                                    done_phrases, print_apply_summary, render_apply_summary, result_line)
from orch.engine.plan import Plan
from orch.engine.plan_markdown import render_markdown  # noqa: F401
from orch.engine.plan_table import plan_renderables, print_table, render_table  # noqa: F401
from orch.engine.plan_text import (DEFAULT_WIDTH, MAX_ROWS, WIDE, full_reason, group_by_policy,  # noqa: F401
                                   make_console, marker, param_details, reason_blocks, resource_label, short_label,
                                   short_name, summary_line, summary_phrases)

FORMATS = ("table", "json", "markdown")


def render_json(plan: Plan) -> str:
    return plan.to_json()


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
