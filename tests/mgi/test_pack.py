"""The MGI pack across runs: two-phase delete of archived data, idempotency, retargeting."""

from __future__ import annotations

import json
import re

from tests.mgi.checks import assert_well_formed, lifecycle
from tests.mgi.worlds import DESTINATION, SOURCE, WorldBuilder, ago

STATS = "Reports/Demultiplex_Stats.csv"


def test_two_phase_delete_across_runs(make_orch_any):
    make_orch = make_orch_any
    w = WorldBuilder()
    ica = w.analysis(start=ago(days=100), files=[STATS], folder_status="ARCHIVED", file_status="ARCHIVED")
    w.analysis(start=ago(days=100), files=["M-1_S1_L001_R1_001.fastq.gz"], bssh_projects=["bs_del"])
    ds = w.dataset("M-1_L001", ago(days=100), archived=True)
    w.bs_project("bs_del", [ds])
    w.analysis("20260801_LH00619_0013_B22CCFJLT4", start=ago(days=3))
    run = w.run("20260801_LH00619_0013_B22CCFJLT4", ago(days=100), archived=True)
    orch = make_orch(w.build())
    folder = ica.folder_id

    # run 1: everything archived is unarchived, nothing deleted yet
    first = orch.plan()
    assert_well_formed(first)
    for rid in (folder, ds["Id"], run):
        assert first.on(rid) == [("unarchive", "delete")], first.brief()
    assert first.select(action="delete") == []
    orch.apply()
    state = orch.state()
    assert state.data(SOURCE)[ica.output]["status"] == "UNARCHIVING"
    assert state.datasets()[ds["Id"]].get("ArchiveStatus") == "Restoring"
    assert state.runs()[run].get("ArchiveStatus") == "Restoring"

    # while the platforms work, the next run deletes nothing (deleting straight after a restore is
    # the old script's bug); ICA shows UNARCHIVING, so the folder is left alone this run
    waiting = orch.plan()
    assert waiting.select(action="delete") == [], waiting.brief()
    assert waiting.on(folder) == [], waiting.brief()

    # the sandbox clock passes timing.unarchive (6h): the next run deletes
    orch.advance("361m")
    state = orch.state()
    assert state.data(SOURCE)[ica.output]["status"] == "AVAILABLE"
    assert state.datasets()[ds["Id"]]["IsArchived"] is False
    second = orch.plan()
    assert_well_formed(second)
    for rid in (folder, ds["Id"], run):
        assert second.on(rid) == [("delete", None)], second.brief()
    orch.apply()
    orch.advance("11m")  # timing.delete
    state = orch.state()
    assert ica.output not in state.data(SOURCE) and ica.path(STATS) not in state.data(SOURCE)
    assert ds["Id"] not in state.datasets() and run not in state.runs()
    assert orch.plan().actions == []


def mixed_world() -> WorldBuilder:
    """One of everything the pack acts on (nothing archived in the delete window: no two-phase)."""
    w = WorldBuilder()
    new = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz", "M_2_S2_L001_R2_001.fastq.gz",
                                                "Undetermined_S0_L001_R1_001.fastq.gz"])
    w.analysis(start=ago(days=4), files=["Phix_S1_L001_R1_001.fastq.gz"])
    w.analysis(start=ago(days=100), files=[STATS])                      # ICA delete
    w.analysis(start=ago(days=70), files=[STATS])                       # ICA archive
    w.analysis(start=ago(days=100), bssh_projects=["bs_del"])          # BaseSpace delete
    w.bs_project("bs_del", [w.dataset("d1", ago(days=100)), w.dataset("d2", ago(days=10))])
    w.analysis(start=ago(days=70), bssh_projects=["bs_arc"])           # BaseSpace archive
    w.bs_project("bs_arc", [w.dataset("a1", ago(days=70)), w.dataset("a2", ago(days=70), archived=True)])
    w.run(new.user_reference, ago(days=100))                            # run delete
    w.analysis("20260901_LH00619_0020_B22DDFJLT4", start=ago(days=5))
    w.run("20260901_LH00619_0020_B22DDFJLT4", ago(days=70))            # run archive
    return w


def test_apply_then_plan_has_no_changes(make_orch_any):
    make_orch = make_orch_any
    orch = make_orch(mixed_world().build())
    before = orch.plan_result(extra=["--detailed-exitcode"])
    assert before.exit_code == 2, before.describe()
    plan = orch.plan("empty_trash=true")
    assert_well_formed(plan)
    assert {x["action"] for x in plan.actions} == {"link", "manifest", "mark_managed", "archive", "delete",
                                                    "purge_trash"}
    orch.apply("empty_trash=true")

    after = orch.plan("empty_trash=true")
    assert after.actions == [], after.brief()
    again = orch.plan_result("empty_trash=true", extra=["--detailed-exitcode"])
    assert again.exit_code == 0, again.describe()

    # and still none once the platforms' work is done (sandbox timing: archive 1h, delete 10m)
    orch.advance("61m")
    assert orch.plan("empty_trash=true").actions == []


def test_plan_changes_nothing(make_orch):
    orch = make_orch(mixed_world().build())
    before = orch.state().doc
    orch.plan("empty_trash=true")
    after = orch.state().doc
    before.pop("now"), after.pop("now")
    assert after == before


def test_retargeting_moves_the_whole_pack(make_orch):
    w = WorldBuilder()  # ken_debug / Ken_demos hold work the default targets would act on
    d_new = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    d_old = w.analysis(start=ago(days=100), files=[STATS])
    w.analysis(start=ago(days=100), bssh_projects=["bs_default"])
    w.bs_project("bs_default", [w.dataset("x", ago(days=100))])
    w.run(d_new.user_reference, ago(days=100))
    w.project("lab_bcl")
    w.project("lab_mgi")
    l_new = w.analysis(start=ago(days=2), files=["M-9_S1_L001_R1_001.fastq.gz"], project="lab_bcl")
    l_old = w.analysis(start=ago(days=100), files=[STATS], project="lab_bcl")
    w.analysis(start=ago(days=100), bssh_projects=["bs_lab"], project="lab_bcl")
    lab_ds = w.dataset("y", ago(days=100))
    bs_lab = w.bs_project("bs_lab", [lab_ds])
    lab_run = w.run(l_new.user_reference, ago(days=100))
    orch = make_orch(w.build())

    default = orch.plan()
    assert default.ids(action="link") == {d_new.file_id("M-1_S1_L001_R1_001.fastq.gz")}
    assert d_old.folder_id in default.ids(action="delete")

    plan = orch.plan("source_project=lab_bcl", "destination_project=lab_mgi")
    assert_well_formed(plan)
    lab_bcl, lab_mgi = w.projects["lab_bcl"]["id"], w.projects["lab_mgi"]["id"]
    assert plan.doc["vars"]["source_project"] == "lab_bcl"
    link = plan.one(action="link")
    assert link["resource"]["id"] == l_new.file_id("M-9_S1_L001_R1_001.fastq.gz")
    assert link["params"]["to_project_id"] == lab_mgi
    assert plan.one(action="manifest")["params"]["to_project_id"] == lab_mgi
    assert plan.ids(action="mark_managed") == {l_new.id}
    lab_folder = l_old.folder_id
    assert lifecycle(plan) == sorted([
        ("delete-basespace-datasets", "delete", lab_ds["Id"], None),
        ("delete-basespace-runs", "delete", lab_run, None),
        ("delete-ica-outputs", "delete", lab_folder, None)]), plan.brief()
    for x in plan.actions:
        assert x["resource"].get("project_id") in (None, lab_bcl, bs_lab), x
    orch.apply("source_project=lab_bcl", "destination_project=lab_mgi")
    after = orch.state()
    assert l_new.path("M-9_S1_L001_R1_001.fastq.gz") in after.data("lab_mgi")
    assert not any(d.get("owningProjectId") for d in after.data(DESTINATION).values())
    assert after.data(SOURCE)[d_old.output]["status"] == "AVAILABLE"


def test_same_inputs_same_plan(make_orch, tmp_path):
    """Two plans of one world are byte-identical apart from created_at (contracts section 2)."""
    orch = make_orch(mixed_world().build())
    texts = []
    for n in (1, 2):
        out = tmp_path / f"plan{n}.json"
        res = orch.plan_result("empty_trash=true", extra=["--out", str(out)])
        assert res.exit_code == 0, res.describe()
        texts.append(re.sub(r'"created_at": "[^"]*"', '"created_at": ""', out.read_text(encoding="utf-8")))
    assert texts[0] == texts[1]
    assert len(json.loads(texts[0])["actions"]) >= 10


def test_missing_destination_project_fails_closed(make_orch):
    w = WorldBuilder()
    w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    old = w.analysis(start=ago(days=100), files=[STATS])  # the lifecycle policies still plan
    orch = make_orch(w.build())
    res = orch.plan_result("destination_project=nope")
    assert res.exit_code == 1, res.describe()
    doc = json.loads(res.stdout)
    assert [x for x in doc["actions"] if x["policy"] == "handoff-mgi-fastqs"] == []
    assert any("nope" in e["message"] for e in doc["errors"])
    assert [(x["action"], x["resource"]["id"]) for x in doc["actions"]] == [("delete", old.folder_id)]
    assert "nope" in res.stderr and "Traceback" not in res.stderr
    # an error beats changes for --detailed-exitcode too (other policies still planned actions)
    assert orch.plan_result("destination_project=nope", extra=["--detailed-exitcode"]).exit_code == 1


def test_sandbox_reset_starts_world_and_ledger_afresh(tmp_path, monkeypatch):
    """The `make demo` flow on a small world, without --state: plan, apply, plan (no changes); after
    `orch sandbox reset` the hand-off is planned again (the sandbox's ledger went with its world)."""
    from tests.mgi.harness import InProcessOrch
    from tests.mgi.worlds import NOW

    monkeypatch.chdir(tmp_path)
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    orch = InProcessOrch(w.build(), tmp_path, now=NOW)
    common = ["-p", str(orch.policy), *orch.target()]

    def plan_ids() -> set[str]:
        res = orch.run("plan", *common, "--format", "json")
        assert res.exit_code == 0, res.describe()
        return {x["resource"]["id"] for x in json.loads(res.stdout)["actions"]}

    assert a.id in plan_ids()
    res = orch.run("apply", *common, "--yes")
    assert res.exit_code == 0, res.describe()
    assert plan_ids() == set()
    assert not (tmp_path / ".orch" / "state.db").exists()  # the real ledger is not touched by --sandbox
    assert orch.run("sandbox", "reset").exit_code == 0
    assert a.id in plan_ids()


def test_max_deletes_bounds_every_delete_policy(make_orch):
    """The pack's safety bound: a delete policy over max_deletes plans nothing and fails loudly,
    while the other policies still plan; at the bound it plans as usual."""
    w = WorldBuilder()
    old = [w.analysis(start=ago(days=100 + i), files=[STATS]) for i in range(3)]
    w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    over = orch.plan_result("max_deletes=2")
    assert over.exit_code == 1, over.describe()
    doc = json.loads(over.stdout)
    assert not [x for x in doc["actions"] if x["action"] in ("delete", "unarchive")]
    assert [x["action"] for x in doc["actions"] if x["policy"] == "handoff-mgi-fastqs"]  # others go on
    assert any(e["policy"] == "delete-ica-outputs" and "max_resources count of 2" in e["message"]
               for e in doc["errors"])
    assert "max_resources" in over.stderr and "Traceback" not in over.stderr
    at = orch.plan_result("max_deletes=3")
    assert at.exit_code == 0, at.describe()
    assert sorted(x["resource"]["id"] for x in json.loads(at.stdout)["actions"] if x["action"] == "delete") == \
        sorted(a.folder_id for a in old)
