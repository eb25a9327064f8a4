"""The demo world's plan, frozen before the action-kind refactor (issue 11): a fresh plan must be
byte-identical apart from ``created_at``, and the frozen plan must still render the same table,
Markdown and apply summary. Regenerate only when an issue deliberately changes the plan (say so)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from orch.cli import app
from orch.engine.plan import ActionResult, ApplyReport, Outcome, Plan
from orch.engine.render import render_apply_summary, render_markdown, render_table, result_line

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "demo"
BEFORE = FIXTURES / "plan.before.json"


def _without_created_at(text: str) -> str:
    doc = json.loads(text)
    doc.pop("created_at")
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False)


def test_fresh_demo_plan_is_byte_identical_to_the_frozen_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    out = tmp_path / "plan.json"
    # --now: the sandbox clock runs with real time, so a slow start would move every age
    result = CliRunner().invoke(app, ["plan", "--sandbox", "-p", "policies/mgi.yaml", "--format", "json",
                                      "--now", json.loads(BEFORE.read_text())["now"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    fresh, before = out.read_text(), BEFORE.read_text()
    created = json.loads(before)["created_at"]
    # byte-identical once created_at is the same (not just equal as JSON)
    assert fresh.replace(json.loads(fresh)["created_at"], created) == before
    assert _without_created_at(fresh) == _without_created_at(before)


def test_frozen_demo_plan_renders_as_before():
    plan = Plan.load(BEFORE)
    assert render_table(plan, width=120) == (FIXTURES / "plan.before.table.txt").read_text()
    assert render_table(plan, width=170) == (FIXTURES / "plan.before.wide.txt").read_text()
    assert render_table(plan, width=120, max_rows=5) == (FIXTURES / "plan.before.counted.txt").read_text()
    assert render_markdown(plan) == (FIXTURES / "plan.before.md").read_text()


def test_frozen_demo_plan_apply_view_as_before():
    plan = Plan.load(BEFORE)
    outcomes = list(Outcome)
    report = ApplyReport([ActionResult(a, outcomes[i % len(outcomes)], f"message {i}")
                          for i, a in enumerate(plan.actions)])
    lines = [result_line(r, full=i % 2 == 0).plain for i, r in enumerate(report.results)]
    done = ApplyReport([ActionResult(a, Outcome.DONE) for a in plan.actions])
    text = "\n".join(lines) + "\n" + render_apply_summary(report) + render_apply_summary(done)
    assert text == (FIXTURES / "plan.before.apply.txt").read_text()


def _other_kinds_plan() -> Plan:
    """tag and purge_trash, which the demo plan lacks, next to a few demo actions."""
    from orch.engine.plan import PlannedAction, ResourceRef
    from orch.timeutil import parse_ts

    demo = Plan.load(BEFORE)
    extra = [
        PlannedAction.create("tag-outputs", "mgi", "tag", ResourceRef("ica.data", "fil.1", "a.fastq.gz", "p1",
                                                                      {"path": "/x/a.fastq.gz"}),
                             {"user_tags": ["handed-off", "mgi"]}, reason="tag output file with handed-off, mgi"),
        PlannedAction.create("tag-outputs", "mgi", "tag", ResourceRef("ica.analysis", "an.1", "run-1", "p1",
                                                                      {"user_reference": "RUN_1"}),
                             {"user_tags": ["done"]}, reason="tag analysis RUN_1 with done"),
        PlannedAction.create("empty-trash", "mgi", "purge_trash", ResourceRef("bssh.trash", "trash", "BaseSpace trash"),
                             reason="empty the whole BaseSpace trash after this plan's 1 BaseSpace delete"),
    ]
    return Plan.create(now=parse_ts("2026-11-25T12:00:00Z"), actions=demo.actions[:6] + extra,
                       created_at=parse_ts("2026-11-25T12:00:00Z"))


def test_tag_and_trash_render_as_before():
    plan = _other_kinds_plan()
    outcomes = list(Outcome)
    report = ApplyReport([ActionResult(a, outcomes[i % len(outcomes)], "m") for i, a in enumerate(plan.actions)])
    text = (render_table(plan, width=120) + render_table(plan, width=170) + render_markdown(plan)
            + "\n".join(result_line(r, full=True).plain for r in report.results) + "\n"
            + render_apply_summary(report) + render_apply_summary(ApplyReport([ActionResult(a, Outcome.DONE)
                                                                              for a in plan.actions])))
    assert text == (FIXTURES / "other-kinds.before.txt").read_text()
