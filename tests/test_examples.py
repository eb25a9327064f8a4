"""The shipped example plan is a valid plan file and still what the demo world plans today."""

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from orch.cli import app
from orch.engine.plan import Plan

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plans" / "demo-plan.json"


def test_example_plan_loads_as_a_plan_file():
    plan = Plan.load(str(EXAMPLE))
    assert plan.format_version == "1" and plan.actions


def test_example_plan_is_what_the_demo_world_plans(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    out = tmp_path / "plan.json"
    # --now: the sandbox clock runs with real time, so a slow start (a loaded machine) would move it
    result = CliRunner().invoke(app, ["plan", "--sandbox", "-p", "policies/mgi.yaml", "--format", "json",
                                      "--now", json.loads(EXAMPLE.read_text())["now"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    now, example = json.loads(out.read_text()), json.loads(EXAMPLE.read_text())
    for doc in (now, example):
        doc.pop("created_at")
    assert now == example, "regenerate examples/plans/ (see examples/plans/README.md)"
