"""End to end over real HTTP: ``protect:`` in a policy file keeps resources out of the plan and
out of apply, while the rest of the plan goes ahead; a saved plan is re-checked at apply time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e_helpers import MGI, Cli, data_of, every_kind_world

R2 = "M-1_S1_L001_R2_001.fastq.gz"
PROTECT = f"""protect:
  names: ["{R2}"]
  paths: [/ilmn-analyses/RUN_B/output/x.txt]
"""


@pytest.fixture
def cli(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Cli(make_sandbox(every_kind_world()), tmp_path)


def policy_copy(tmp_path: Path, protect: str = "protect: {}\n") -> Path:
    """The shipped MGI pack with its (empty) protect list replaced."""
    text = Path(MGI).read_text()
    assert text.count("\nprotect: {}\n") == 1
    path = tmp_path / "mgi.yaml"
    path.write_text(text.replace("\nprotect: {}\n", "\n" + protect))
    return path


def analysis_a_id(run) -> str:
    """The analysis whose output files are fil.a1..a3 (its manifest/mark_managed act on it)."""
    acts = run.json()["actions"]
    [ref] = {a["resource"]["id"] for a in acts if a["action"] == "manifest"
             and any(d in {b["id"] for b in acts if b["resource"]["id"] == "fil.a2"} for d in a["depends_on"])}
    return ref


def planned(run) -> set[tuple[str, str]]:
    return {(a["action"], a["resource"]["id"]) for a in run.json()["actions"]}


def test_protected_file_is_not_linked_or_deleted_and_the_rest_goes_ahead(cli, tmp_path):
    policy = str(policy_copy(tmp_path, PROTECT))
    plain = cli.plan()
    first = cli.plan(policy=policy)
    assert first.code == 0, first.stderr
    got = planned(first)
    without = planned(plain)
    state = cli.state()
    src = data_of(state, "ken_debug")
    run_b = src["/ilmn-analyses/RUN_B/output/"]["id"]
    assert ("link", "fil.a2") in without and ("delete", run_b) in without  # both would be planned unprotected
    assert ("delete", run_b) not in got  # the folder holds a protected path
    # fil.a2 is protected by name: its analysis's hand-off is held back whole (no link, no manifest,
    # no ledger record), so nothing is recorded as handed off without it
    handoff_a = {(k, i) for k, i in without if k in ("link", "manifest", "mark_managed")
                 and (i.startswith("fil.a") or i == analysis_a_id(plain))}
    assert ("link", "fil.a2") in handoff_a and ("link", "fil.a1") in handoff_a
    assert {k for k, _ in handoff_a} == {"link", "manifest", "mark_managed"}
    assert not handoff_a & got
    assert without - got == handoff_a | {("delete", run_b)}  # the rest of the plan goes ahead
    assert "selected file(s) are protected" in first.stderr and "held back" in first.stderr
    assert f"its name '{R2}' matches protect name" in first.stderr and f"protect.names of {policy}" in first.stderr
    assert "contains the protected path '/ilmn-analyses/RUN_B/output/x.txt'" in first.stderr

    applied = cli.apply(policy=policy)
    assert applied.code == 0, applied.stdout + applied.stderr
    state = cli.state()
    linked = {d["id"] for d in data_of(state, "Ken_demos").values() if d.get("owningProjectId")}
    assert not linked & {"fil.a1", "fil.a2", "fil.a3"}
    src = data_of(state, "ken_debug")
    assert src["/ilmn-analyses/RUN_B/output/"]["status"] == "AVAILABLE"
    assert src["/ilmn-analyses/RUN_B/output/x.txt"]["status"] == "AVAILABLE"
    assert src["/ilmn-analyses/RUN_C/output/"]["status"] == "ARCHIVING"  # unprotected lifecycle went ahead


def test_apply_of_a_saved_plan_refuses_what_was_protected_after_it_was_made(cli, tmp_path):
    policy = policy_copy(tmp_path)
    saved = tmp_path / "plan.json"
    made = cli.plan(policy=str(policy), extra=("--out", str(saved)))
    assert made.code == 0, made.stderr
    assert ("link", "fil.a2") in planned(made)
    policy_copy(tmp_path, "protect:\n  ids: [fil.a2]\n")  # added after the plan was made

    applied = cli.apply_file(saved)
    assert applied.code == 1, applied.stdout + applied.stderr  # an action was not done
    out = applied.stdout + applied.stderr
    assert "protected: its id fil.a2 is on the protect list" in out
    state = cli.state()
    linked = {d["id"] for d in data_of(state, "Ken_demos").values() if d.get("owningProjectId")}
    assert linked == {"fil.a1", "fil.a3"}  # the other links of the saved plan were applied
    saved_ids = {a["resource"]["id"] for a in json.loads(saved.read_text())["actions"]}
    assert "fil.a2" in saved_ids  # the plan file itself still asked for it


def test_a_folder_holding_a_file_protected_by_id_is_neither_planned_nor_applied(cli, tmp_path):
    """Deleting RUN_B's output folder would delete its x.txt: protecting x.txt by id (not by path)
    keeps the folder out of the plan. Archiving RUN_C's folder from a plan saved before its x.txt was
    protected is refused at apply (the applier lists the folder again)."""
    src = data_of(cli.state(), "ken_debug")
    b_folder, b_keep = src["/ilmn-analyses/RUN_B/output/"]["id"], src["/ilmn-analyses/RUN_B/output/x.txt"]["id"]
    c_folder, c_keep = src["/ilmn-analyses/RUN_C/output/"]["id"], src["/ilmn-analyses/RUN_C/output/x.txt"]["id"]
    saved = tmp_path / "plan.json"
    made = cli.plan(policy=str(policy_copy(tmp_path)), extra=("--out", str(saved)))
    assert {("delete", b_folder), ("archive", c_folder)} <= planned(made)

    policy = str(policy_copy(tmp_path, f"protect:\n  ids: [{b_keep}]\n"))
    held = cli.plan(policy=policy)
    assert held.code == 0, held.stderr
    assert planned(made) - planned(held) == {("delete", b_folder)}
    assert f"contains /ilmn-analyses/RUN_B/output/x.txt, which is protected (its id {b_keep}" in held.stderr

    policy_copy(tmp_path, f"protect:\n  ids: [{c_keep}]\n")
    applied = cli.apply_file(saved)  # the plan from before the protection
    assert applied.code == 1, applied.stdout + applied.stderr
    out = applied.stdout + applied.stderr
    assert f"protected: the folder contains /ilmn-analyses/RUN_C/output/x.txt, which is protected (its id {c_keep}" in out
    src = data_of(cli.state(), "ken_debug")
    assert src["/ilmn-analyses/RUN_C/output/"]["status"] == src["/ilmn-analyses/RUN_C/output/x.txt"]["status"] == "AVAILABLE"
    assert "3 archives requested" in out  # the rest of the saved plan ran (its deletes: file changed)
    assert any(d.get("owningProjectId") for d in data_of(cli.state(), "Ken_demos").values())
