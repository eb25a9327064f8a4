"""``--sandbox``: an in-process sandbox whose state persists in .orch/sandbox/ between commands."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from e2e_helpers import MGI, every_kind_world
from orch.cli import app


def orch(*args: str):
    res = CliRunner().invoke(app, list(args), env={"ORCH_STATE": None})
    return res.exit_code, res.stdout, res.stderr


def test_sandbox_plan_apply_plan_persists_between_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = tmp_path / "w.yaml"
    world.write_text(yaml.safe_dump(every_kind_world()))
    code, out, err = orch("plan", "--sandbox", "--world", str(world), "-p", MGI, "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["now"].startswith("2026-11-25T12:00")  # the sandbox clock, not the real one
    assert plan["actions"]
    saved = tmp_path / ".orch" / "sandbox" / "world.yaml"
    assert saved.exists()
    code, out, err = orch("apply", "--sandbox", "-p", MGI, "--yes")
    assert code == 0, out + err
    assert "Apply complete" in out
    code, out, err = orch("plan", "--sandbox", "-p", MGI, "--detailed-exitcode")
    assert code == 0, out + err
    assert out.strip().endswith("No changes.")
    state = yaml.safe_load(saved.read_text())
    dest = next(p for p in state["ica"]["projects"] if p["name"] == "Ken_demos")
    assert any(d.get("owningProjectId") for d in dest["data"])  # the links persisted
    code, out, _ = orch("sandbox", "reset")
    assert code == 0 and not saved.exists()


def test_saved_plan_from_a_changed_policy_file_refuses_destructive_actions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = tmp_path / "w.yaml"
    world.write_text(yaml.safe_dump(every_kind_world()))
    policy = tmp_path / "mgi.yaml"
    policy.write_text(open(MGI).read())
    out_file = tmp_path / "plan.json"
    code, _, err = orch("plan", "--sandbox", "--world", str(world), "-p", str(policy), "--out", str(out_file))
    assert code == 0, err
    policy.write_text(policy.read_text() + "\n# edited after the review\n")
    code, out, err = orch("apply", str(out_file), "--sandbox")
    assert code == 1
    assert "changed since the plan" in err
    assert "refused" in out
    state = yaml.safe_load((tmp_path / ".orch" / "sandbox" / "world.yaml").read_text())
    src = {d["path"]: d for d in next(p for p in state["ica"]["projects"] if p["name"] == "ken_debug")["data"]}
    assert src["/ilmn-analyses/RUN_B/output/"]["status"] == "AVAILABLE"  # its delete was refused
    assert src["/ilmn-analyses/RUN_C/output/"]["status"] == "ARCHIVING"  # archive is not destructive


def test_sandbox_runs_keep_their_own_ledger_and_reset_forgets_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = tmp_path / "w.yaml"
    world.write_text(yaml.safe_dump(every_kind_world()))
    code, out, err = orch("apply", "--sandbox", "--world", str(world), "-p", MGI, "--yes")
    assert code == 0, out + err
    assert (tmp_path / ".orch" / "sandbox" / "state.db").exists()
    assert not (tmp_path / ".orch" / "state.db").exists()  # the real ledger is untouched
    orch("sandbox", "reset")
    code, out, err = orch("plan", "--sandbox", "--world", str(world), "-p", MGI, "--format", "json")
    assert code == 0, err
    assert any(a["action"] == "link" for a in json.loads(out)["actions"])  # a fresh start hands off again


def test_an_explicit_state_wins_over_the_sandbox_ledger_and_ledger_commands_reach_both(tmp_path, monkeypatch):
    """Found by review: --state .orch/state.db (the default path, given explicitly) was ignored with
    --sandbox, and the ledger commands could not reach the sandbox runs' ledger."""
    monkeypatch.chdir(tmp_path)
    world = tmp_path / "w.yaml"
    world.write_text(yaml.safe_dump(every_kind_world()))
    code, out, err = orch("apply", "--sandbox", "--world", str(world), "-p", MGI, "--yes")
    assert code == 0, out + err
    code, table, _ = orch("ledger", "export", "--sandbox")
    assert code == 0 and len(table.strip().splitlines()) > 1  # header + the analyses handed off
    code, _, err = orch("ledger", "export")  # the default ledger was never written: an error, never created
    assert code == 1 and "no ledger at .orch/state.db" in err and not Path(".orch/state.db").exists()
    (tmp_path / "t.txt").write_text(table)
    assert orch("sandbox", "reset")[0] == 0
    assert orch("ledger", "import", "t.txt")[0] == 0  # into the default ledger, .orch/state.db

    def marks(*extra: str) -> int:
        code, out, err = orch("plan", "--sandbox", "--world", str(world), "-p", MGI, "--format", "json", *extra)
        assert code == 0, err
        return sum(a["action"] == "mark_managed" for a in json.loads(out)["actions"])

    assert marks() > 0  # the fresh sandbox ledger knows nothing
    assert marks("--state", ".orch/state.db") == 0  # the given ledger holds the imported table
    res = CliRunner().invoke(app, ["plan", "--sandbox", "-p", MGI, "--format", "json"], env={"ORCH_STATE": ".orch/state.db"})
    assert res.exit_code == 0 and not [a for a in json.loads(res.stdout)["actions"] if a["action"] == "mark_managed"]


def test_the_sandbox_clock_runs_between_commands_and_sandbox_advance_moves_it(tmp_path, monkeypatch):
    """Found by review: the persisted --sandbox clock stood still between commands, so the second phase
    of a two-phase delete was out of reach. Now it catches up with real time, and `sandbox advance` jumps."""
    monkeypatch.chdir(tmp_path)
    world = tmp_path / "w.yaml"
    world.write_text(yaml.safe_dump(every_kind_world()))
    code, out, err = orch("apply", "--sandbox", "--world", str(world), "-p", MGI, "--yes")
    assert code == 0, out + err

    def plan() -> dict:
        code, out, err = orch("plan", "--sandbox", "-p", MGI, "--format", "json")
        assert code == 0, err
        return json.loads(out)

    before = plan()
    assert not [a for a in before["actions"] if a["resource"]["id"] == "fol.d"]  # unarchiving (6h)
    code, out, _ = orch("sandbox", "advance", "7h")
    assert code == 0 and out.startswith("sandbox clock: 2026-11-25T19:00")
    after = plan()
    assert [a["action"] for a in after["actions"] if a["resource"]["id"] == "fol.d"] == ["delete"]  # phase two
    # real time between commands counts too: pretend the state was saved long ago
    (tmp_path / ".orch" / "sandbox" / "saved_at").write_text("2026-01-01T00:00:00Z\n")
    assert plan()["now"] > "2026-11-26T19:00"
    assert orch("sandbox", "advance", "soon")[0] == 1
