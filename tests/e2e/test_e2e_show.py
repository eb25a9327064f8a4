"""``orch show PLAN.json`` renders a saved plan exactly as ``orch plan`` showed it, reading nothing else."""

from __future__ import annotations

import pytest
import requests

from e2e_helpers import MGI, Cli, every_kind_world


@pytest.fixture
def cli(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Cli(make_sandbox(every_kind_world()), tmp_path)


@pytest.mark.parametrize("fmt", ["markdown", "table", "json"])
def test_show_renders_a_saved_plan_like_plan_did_without_a_request(cli, tmp_path, fmt):
    saved = tmp_path / "plan.json"
    made = cli.run("plan", "-p", MGI, *cli.common(), "--format", fmt, "--out", saved)
    assert made.code == 0, made.stderr
    requests.post(cli.sandbox.control_url + "/requests:reset", timeout=10).raise_for_status()
    shown = cli.run("show", saved, "--format", fmt)
    assert shown.code == 0, shown.stderr
    assert shown.stdout == made.stdout and "delete" in shown.stdout
    assert requests.get(cli.sandbox.control_url + "/requests", timeout=10).json()["total"] == 0


def test_show_of_a_file_that_is_not_a_plan_is_one_line(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": "1"')
    shown = cli.run("show", bad)
    assert shown.code == 1 and shown.stderr.strip().count("\n") == 0
    assert f"{bad} is not a plan file: invalid JSON" in shown.stderr
    missing = cli.run("show", tmp_path / "nope.json")
    assert missing.code == 1 and "cannot read plan" in missing.stderr and "Traceback" not in missing.stderr
