"""The plan as Markdown, for a pull-request comment or a ticket (orch/templates/plan.md.j2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2

from orch.engine.plan import Plan, PlannedAction
from orch.engine.plan_text import full_reason, group_by_policy, marker, param_details, reason_blocks, summary_line, \
    summary_phrases


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
