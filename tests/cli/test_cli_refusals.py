"""Plan/apply semantics a Terraform user can trust (issue 12.1, 12.5, 12.7, 12.9) and bad input as
one clear line (16.7), through the real CLI against a sandbox over HTTP."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cli_helpers import MGI, Cli, every_kind_world, orch_proc, sandbox_state


@pytest.fixture
def cli(make_sandbox, tmp_path):
    return Cli(make_sandbox(every_kind_world()), tmp_path)


def _world_without_clock(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "now"}


# ---------------------------------------------------------------- 12.1
def test_an_errored_plan_applies_nothing_and_says_so_once(cli):
    """A misspelt --var in a cron line used to archive and delete anyway ("Apply complete!", rc 1)."""
    before = _world_without_clock(cli.state())
    res = cli.run("apply", "-p", MGI, *cli.common("destination_project=Ken_demoz"), "--yes")
    assert res.code == 1
    assert _world_without_clock(cli.state()) == before  # nothing archived, deleted or linked
    assert "apply refused: the plan has 1 error, so nothing was changed" in res.stderr
    assert "--only archive-ica-outputs" in res.stderr  # the way to apply the policies that planned cleanly
    assert "Apply complete" not in res.stdout + res.stderr
    both = res.stdout + res.stderr
    assert both.count("'Ken_demoz' not found") == 1, both  # printed once, not in a box and again on stderr


def test_a_saved_plan_with_errors_applies_nothing(cli, tmp_path):
    out = tmp_path / "p.json"
    made = cli.run("plan", "-p", MGI, *cli.common("destination_project=Ken_demoz"), "--out", str(out))
    assert made.code == 1 and out.exists()
    assert json.loads(out.read_text())["actions"], "the errored plan still holds the other policies' actions"
    before = _world_without_clock(cli.state())
    res = cli.apply_file(out)
    assert res.code == 1 and "apply refused" in res.stderr
    assert _world_without_clock(cli.state()) == before


def test_only_applies_the_policies_that_planned_cleanly(cli):
    res = cli.run("apply", "-p", MGI, *cli.common("destination_project=Ken_demoz"), "--only", "archive-*", "--yes")
    assert res.code == 0, res.stderr
    assert "archive" in res.stdout and "Apply complete" in res.stdout


# ---------------------------------------------------------------- 12.5 (a real terminal)
def _apply_on_a_tty(workdir: Path, world: Path, answer: str) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "orch", "apply", "--sandbox", "--world", str(world), "-p", MGI],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir,
                            env={**os.environ, "NO_COLOR": "1"})
    os.close(slave)
    try:
        time.sleep(0.2)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:  # answer once the prompt is up
            time.sleep(0.2)
            if Path(workdir / ".orch" / "sandbox").exists():
                break
        os.write(master, answer.encode())
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(master)
    return proc.returncode, out.decode()


@pytest.mark.parametrize("answer,code", [("y\n", 1), ("yes\n", 0)])
def test_a_terminal_apply_needs_the_word_yes(tmp_path, answer, code):
    world = tmp_path / "w.yaml"
    world.write_text(yaml.safe_dump(every_kind_world()))
    rc, out = _apply_on_a_tty(tmp_path, world, answer)
    assert rc == code, out
    assert "Only 'yes' will be accepted" in out and "5 of these 14 actions are destructive" in out
    assert out.index("are destructive") < out.index("Apply these")
    if code:
        assert "Apply cancelled; nothing was changed." in out
        assert not (tmp_path / ".orch" / "sandbox" / "state.db").exists() or "done" not in out
    else:
        assert "Apply complete!" in out


# ---------------------------------------------------------------- 12.7
@pytest.mark.parametrize("option,value", [("--ica-url", "notaurl"), ("--ica-url", "http://[::1"),
                                          ("--basespace-url", "ftp://x.example"), ("--s3-endpoint-url", "http://h:99999")])
def test_a_malformed_url_is_one_line_naming_the_option(tmp_path, option, value):
    start = time.monotonic()
    res = orch_proc("plan", "-p", MGI, option, value, cwd=tmp_path)
    assert time.monotonic() - start < 30
    assert res.returncode == 1 and res.stdout == ""
    [line] = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {option} ") and "is not an http(s) URL" in line
    assert not (tmp_path / ".orch").exists()


# ---------------------------------------------------------------- 12.9
def test_plan_never_creates_or_changes_the_ledger(cli, tmp_path):
    state = tmp_path / "state.db"
    res = cli.plan()
    assert res.code == 0, res.stderr
    assert not state.exists() and not list(tmp_path.glob("state.db*")), "plan created a ledger"
    from orch.engine.ledger import Ledger

    Ledger(state).close()  # an empty ledger: the plan reads bsshoutput.json files it has not cached
    before = _dump(state)
    res = cli.plan(now=cli.now)
    assert res.code == 0, res.stderr
    assert _dump(state) == before, "plan wrote to the ledger"


def _dump(db: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return list(c.iterdump())


@pytest.mark.parametrize("target", ["missing/dir/p.json", "folder"])
def test_out_into_a_missing_folder_or_onto_a_folder_is_an_error(cli, tmp_path, target):
    (tmp_path / "folder").mkdir()
    res = cli.run("plan", "-p", MGI, *cli.common(), "--out", str(tmp_path / target))
    assert res.code == 1 and res.stdout == ""
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: --out ") and ("does not exist" in line or "is a folder" in line)
    assert not (tmp_path / "missing").exists() and list((tmp_path / "folder").iterdir()) == []


def test_ledger_history_and_export_on_a_typo_are_errors(tmp_path):
    for cmd in (["ledger", "export"], ["ledger", "history"]):
        res = orch_proc(*cmd, "--state", str(tmp_path / "typo.db"), cwd=tmp_path)
        assert res.returncode == 1 and "no ledger at" in res.stderr, res
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- 16.7: every bad input is one line
def test_nan_in_a_saved_plan_is_one_line(cli, tmp_path):
    out = tmp_path / "p.json"
    assert cli.run("plan", "-p", MGI, *cli.common(), "--out", str(out)).code == 0
    text = out.read_text().replace('"rows": 3', '"rows": NaN', 1)
    assert "NaN" in text
    out.write_text(text)
    for args in (["show", str(out)], ["apply", str(out), *cli.common()]):
        res = cli.run(*args)
        assert res.code == 1 and "internal error" not in res.stderr
        [line] = res.stderr.strip().splitlines()
        assert "is not a plan file: invalid JSON" in line


@pytest.mark.parametrize("args,expect", [
    (["ledger", "history", "-n", "99999999999999999999999"], "--limit"),
    (["sandbox", "serve", "--world", "w.yaml", "--port", "99999"], "--port"),
    (["sandbox", "advance", "99999999d"], "too far"),
    (["plan", "--sandbox", "-p", MGI, "--var", "days_to_delete=99999999999999999999"], "too large"),
])
def test_huge_numbers_are_one_line(tmp_path, args, expect):
    res = orch_proc(*args, cwd=tmp_path)
    assert res.returncode == 1, res
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: ") and expect in line and "internal error" not in line


def test_sandbox_apply_saves_its_world_before_each_ledger_record(tmp_path):
    """SIGKILL in the middle of `orch apply --sandbox`: every action the ledger records as done is in
    the saved world (found by review: the world was saved only at exit, the ledger ran ahead)."""
    import signal
    import sqlite3

    world = tmp_path / "w.yaml"
    w = every_kind_world()
    w["timing"]["link_batch"] = "0s"
    world.write_text(yaml.safe_dump(w))
    proc = subprocess.Popen([sys.executable, "-m", "orch", "apply", "--sandbox", "--world", str(world), "-p", MGI,
                             "--yes"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / ".orch" / "sandbox" / "state.db"
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                done = c.execute("SELECT count(*) FROM audit WHERE outcome='done' AND action IN "
                                 "('archive','delete','unarchive')").fetchone()[0]
        except sqlite3.Error:
            done = 0
        if done >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the apply finished before it could be killed"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        rows = c.execute("SELECT action, resource_kind, resource_id FROM audit WHERE outcome='done'").fetchall()
    saved = sandbox_state(tmp_path)
    ica = {d.get("id"): d for p in saved["ica"]["projects"] for d in p["data"]}
    ds = {d["Id"]: d for p in saved["basespace"]["projects"] for d in p["datasets"]}
    runs = {r["Id"]: r for r in saved["basespace"]["runs"]}
    expect = {"archive": ("ARCHIVING", "ARCHIVED", "Archiving"), "unarchive": ("UNARCHIVING", "AVAILABLE", "Restoring"),
              "delete": ("DELETING", "gone")}
    checked = 0
    for action, kind, rid in rows:
        if action not in expect:
            continue
        if kind == "ica.data":
            now = ica[rid]["status"] if rid in ica else "gone"
        else:
            item = (ds if kind == "bssh.dataset" else runs).get(rid)
            now = "gone" if item is None else item.get("ArchiveStatus", "Available")
        assert now in expect[action], f"ledger: {action} {kind} {rid} done; saved world: {now}"
        checked += 1
    assert checked >= 2
