"""Plan and apply rendering: content of the table, JSON and Markdown views, and the apply display."""

import json
import re

import pytest

from orch.engine.plan import ActionResult, ApplyReport, Outcome, Plan, PlanIssue, PlannedAction
from orch.engine.render import (
    ApplyProgress, make_console, print_plan, render_apply_summary, render_markdown, render_plan, render_table,
    summary_line,
)

try:  # tests/engine is a rootdir-style folder today; keep working if it becomes a package
    from .test_plan import NOW, sample_actions, sample_plan
except ImportError:
    from test_plan import NOW, sample_actions, sample_plan

ERROR = PlanIssue("delete-ica-outputs", "ICA GET /api/projects/{projectId}/data failed: HTTP 503")


def rows_of(text: str) -> list[list[str]]:
    """Table body rows as cell lists (first physical line of each row)."""
    out = []
    for line in text.splitlines():
        if line.startswith("│"):
            out.append([c.strip() for c in line.strip("│").split("│")])
    return out


def test_summary_line_wording():
    assert summary_line(Plan.create(NOW)) == "No changes."
    assert summary_line(sample_plan()) == (
        "Plan: 2 to link, 1 manifest, 1 to mark managed, 1 to unarchive (then delete), 1 to delete.")
    archive = [PlannedAction.create("p", "g", "archive", {"kind": "ica.data", "id": f"d{i}", "name": "x"})
               for i in range(3)]
    many = Plan.create(NOW, archive + sample_actions()[2:3] + sample_actions()[5:6])
    assert summary_line(many) == "Plan: 2 to link, 3 to archive."
    assert summary_line(Plan.create(NOW, errors=[ERROR])) == "No changes. 1 error: the plan is incomplete."


def test_table_rows_grouped_by_policy_and_marked():
    text = render_table(sample_plan(), width=160)
    rows = [r for r in rows_of(text) if r[1]]  # rows that start an action (not continuation lines)
    assert [(r[0], r[1]) for r in rows] == [
        ("!", "delete"), ("!", "unarchive → delete"), ("+", "link"), ("+", "link"), ("+", "manifest"),
        ("+", "mark_managed")]
    assert rows[0][2] == "bssh.dataset M-1_L001"
    assert "won over archive-basespace-datasets" in rows[0][3]
    assert rows[2][2] == "ica.data /ilmn-analyses/RUN_A/output/M-1_R1.fastq.gz"
    # policies appear as titles, in plan order
    titles = [ln.strip() for ln in text.splitlines() if re.match(r"^[a-z-]+ \(group mgi\)", ln.strip())]
    assert titles == ["delete-basespace-datasets (group mgi)", "delete-ica-outputs (group mgi)",
                      "handoff-mgi-fastqs (group mgi)"]
    assert "2 destructive actions" in text
    assert text.rstrip().splitlines()[-1] == summary_line(sample_plan())


def test_table_shows_errors_and_never_wraps_the_summary():
    plan = sample_plan(errors=[ERROR])
    text = render_table(plan, width=60)
    assert "1 error" in text and "✗ delete-ica-outputs:" in text
    assert summary_line(plan) in text.splitlines()  # one line even when wider than the console
    assert all(len(ln) <= 60 for ln in text.splitlines() if ln != summary_line(plan))


def test_narrow_and_empty_tables_render():
    text = render_table(sample_plan(), width=40)
    assert "M-1_L001" in text and all(len(ln) <= 40 for ln in text.splitlines()[:-1])
    assert render_table(Plan.create(NOW), width=80) == "No changes.\n"


def test_destructive_rows_are_bold_red():
    text = render_table(sample_plan(), width=160, color=True)
    line = next(ln for ln in text.splitlines() if "delete" in ln and "M-1_L001" in ln)
    assert "\x1b[1;31m" in line  # bold red
    link = next(ln for ln in text.splitlines() if "M-1_R1.fastq.gz" in ln and "link" in ln)
    assert "\x1b[1;31mlink" not in link


def test_table_is_deterministic():
    plan = sample_plan()
    assert render_table(plan, width=100) == render_table(Plan.loads(plan.to_json()), width=100)


def test_json_format_is_the_plan_file():
    plan = sample_plan()
    out = render_plan(plan, "json")
    assert json.loads(out) == json.loads(plan.to_json())
    assert Plan.loads(out).to_json() == plan.to_json()


def test_markdown_has_summary_tables_warning_and_errors():
    md = render_markdown(sample_plan(errors=[ERROR]))
    assert md.splitlines()[2] == "**" + summary_line(sample_plan(errors=[ERROR])) + "**"
    assert "> [!CAUTION]" in md and "**This plan deletes data:** 1 to unarchive (then delete), 1 to delete." in md
    assert "> [!WARNING]" in md and "> - `delete-ica-outputs`: ICA GET /api/projects/{projectId}/data failed" in md
    headings = [ln for ln in md.splitlines() if ln.startswith("#### ")]
    assert headings == ["#### `delete-basespace-datasets` (group `mgi`): 1 to delete",
                        "#### `delete-ica-outputs` (group `mgi`): 1 to unarchive (then delete)",
                        "#### `handoff-mgi-fastqs` (group `mgi`): 2 to link, 1 manifest, 1 to mark managed"]
    table_rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| |")]
    assert len(table_rows) == 6
    assert table_rows[0].startswith("| ⚠️ | **delete** | `bssh.dataset` `M-1_L001`<br>`ds.1` |")
    assert table_rows[2].startswith("| + | link | `ica.data` `/ilmn-analyses/RUN_A/output/M-1_R1.fastq.gz`")
    assert all(row.count(" | ") == 3 for row in table_rows)  # four cells each: nothing breaks the table
    assert "- var `source_project` = `ken_debug`" in md


def test_markdown_escapes_table_breakers():
    a = PlannedAction.create("p", "", "tag", {"kind": "ica.data", "id": "fil.x", "name": "a|b`c"},
                             reason="line one\nline | two")
    md = render_markdown(Plan.create(NOW, [a]))
    row = next(ln for ln in md.splitlines() if "fil.x" in ln)
    assert "line one<br>line \\| two" in row and "a\\|b`c" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5


def test_markdown_without_changes():
    md = render_markdown(Plan.create(NOW))
    assert "**No changes.**" in md and "CAUTION" not in md and "WARNING" not in md and "| action |" not in md


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown plan format"):
        render_plan(sample_plan(), "yaml")


def test_print_plan_writes_to_console():
    console = make_console(120)
    print_plan(sample_plan(), "markdown", console)
    assert console.file.getvalue() == render_markdown(sample_plan())


def report() -> ApplyReport:
    acts = sample_plan().actions
    return ApplyReport([
        ActionResult(acts[0], Outcome.FAILED, "BaseSpace DELETE /v2/datasets/{id} failed: HTTP 500"),
        ActionResult(acts[1], Outcome.REFUSED_STALE, "status is now AVAILABLE (plan: ARCHIVED)"),
        ActionResult(acts[2], Outcome.DONE),
        ActionResult(acts[3], Outcome.SKIPPED, "already linked"),
        ActionResult(acts[4], Outcome.NOT_RUN, "a dependency failed"),
    ])


def test_apply_summary_table_and_line():
    text = render_apply_summary(report(), width=200)
    rows = [r for r in rows_of(text) if r[1]]
    assert [r[1] for r in rows] == ["failed", "refused-stale", "done", "skipped", "not-run"]
    assert rows[0][2] == "delete" and "HTTP 500" in rows[0][5]
    assert text.rstrip().splitlines()[-1] == (
        "Apply finished with 3 actions not done: 1 done, 1 skipped, 1 refused stale, 1 failed, 1 not run.")


def test_apply_summary_lists_only_problems_when_long():
    acts = sample_plan().actions
    many = ApplyReport([ActionResult(acts[2], Outcome.DONE)] * 3 + [ActionResult(acts[0], Outcome.FAILED, "x")])
    text = render_apply_summary(many, width=200, max_ok_rows=2)
    assert [r[1] for r in rows_of(text) if r[1]] == ["failed"]
    assert "(3 done or already-done actions not listed)" in text
    ok = render_apply_summary(ApplyReport([ActionResult(acts[2], Outcome.DONE)]), width=200)
    assert ok.rstrip().splitlines()[-1] == "Apply complete: 1 done."


def test_progress_prints_one_line_per_result():
    console = make_console(160)
    results = report().results
    with ApplyProgress(len(results), console=console) as progress:
        for r in results:
            progress.start(r.action)
            progress.finish(r)
    lines = [ln for ln in console.file.getvalue().splitlines() if ln.strip()]
    assert len(lines) == 5
    assert lines[0].startswith("✗ failed") and "delete bssh.dataset M-1_L001" in lines[0]
    assert lines[2].startswith("✓ done") and lines[3].startswith("= skipped")
