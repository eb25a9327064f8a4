"""Lifecycle on BaseSpace (contracts section 4, rules 2 and 3): datasets of the projects that
BaseSpace-managed analyses name, runs selected by ``bssh_runs``, and ``empty_trash``."""

from __future__ import annotations

import json

import requests

from tests.mgi.checks import assert_well_formed, lifecycle
from tests.mgi.worlds import ACCESS_TOKEN, DAY, NOW, SECOND, WorldBuilder, ago, ts

DEL_DS, ARC_DS = "delete-basespace-datasets", "archive-basespace-datasets"
DEL_RUN, ARC_RUN = "delete-basespace-runs", "archive-basespace-runs"
DEL_ALL, ARC_ALL = "delete-all-basespace-runs", "archive-all-basespace-runs"
TRASH = "empty-basespace-trash"


def at(age) -> str:
    return ts(NOW - age)


def test_datasets_of_named_projects(make_orch):
    w = WorldBuilder()
    # an analysis in the delete window names bs_del (and a project that does not exist)
    w.analysis(start=ago(days=100), files=["M-1_S1_L001_R1_001.fastq.gz"], bssh_projects=["bs_del"])
    # an analysis in the archive window names bs_arc
    w.analysis(start=ago(days=70), files=["M-2_S1_L001_R1_001.fastq.gz"], bssh_projects=["bs_arc"])
    # an analysis younger than days_to_archive: bs_young is not under lifecycle at all
    w.analysis(start=ago(days=50), files=["M-3_S1_L001_R1_001.fastq.gz"], bssh_projects=["bs_young"])
    ds = {
        # project, key: (DateCreated age, archived, expected (policy, action, then) or None)
        "del_old": ("bs_del", 100 * DAY, False, (DEL_DS, "delete", None)),
        "del_old_arch": ("bs_del", 100 * DAY, True, (DEL_DS, "unarchive", "delete")),
        "del_edge": ("bs_del", 90 * DAY + SECOND, False, (DEL_DS, "delete", None)),
        # the analysis's window only puts the project under lifecycle; the dataset's own age decides
        # (contracts section 4, item 2)
        "del_90": ("bs_del", 90 * DAY, False, (ARC_DS, "archive", None)),  # exactly 90 d: archive, not delete
        "del_mid": ("bs_del", 70 * DAY, False, (ARC_DS, "archive", None)),
        "del_mid_arch": ("bs_del", 70 * DAY, True, None),       # already archived
        "del_new": ("bs_del", 5 * DAY, False, None),
        "arc_mid": ("bs_arc", 70 * DAY, False, (ARC_DS, "archive", None)),
        "arc_mid_arch": ("bs_arc", 70 * DAY, True, None),       # already archived
        "arc_90": ("bs_arc", 90 * DAY, False, (ARC_DS, "archive", None)),
        "arc_60": ("bs_arc", 60 * DAY, False, None),            # exactly 60 d: not older than 60 d
        "arc_60p": ("bs_arc", 60 * DAY + SECOND, False, (ARC_DS, "archive", None)),
        "arc_old": ("bs_arc", 100 * DAY, False, (DEL_DS, "delete", None)),
        "arc_old_arch": ("bs_arc", 100 * DAY, True, (DEL_DS, "unarchive", "delete")),
        "young_old": ("bs_young", 100 * DAY, False, None),      # its analysis is not older than 60 d
        "young_mid": ("bs_young", 70 * DAY, False, None),
        "other_old": ("bs_other", 100 * DAY, False, None),      # not named by any bsshoutput.json
        "other_mid": ("bs_other", 70 * DAY, False, None),
        "other_old_arch": ("bs_other", 100 * DAY, True, None),
    }
    entries = {k: w.dataset(k, at(age), archived) for k, (_, age, archived, _) in ds.items()}
    for project in ("bs_del", "bs_arc", "bs_young", "bs_other"):
        w.bs_project(project, [entries[k] for k, v in ds.items() if v[0] == project])
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    expected = sorted((want[0], want[1], entries[k]["Id"], want[2]) for k, (_, _, _, want) in ds.items() if want)
    got = [x for x in lifecycle(plan)]
    assert got == expected, "\n".join(
        f"{k}: {plan.on(entries[k]['Id'])}, expected {v[3]}" for k, v in ds.items()
        if plan.on(entries[k]["Id"]) != ([v[3][1:]] if v[3] else []))
    for x in plan.select(kind="bssh.dataset"):
        assert x["resource"]["project_id"] in {p["Id"] for p in w.bs_projects if p["Name"] in ("bs_del", "bs_arc")}

    orch.apply()
    state = orch.state()
    left = state.datasets()
    trashed = {t["dataset"]["Id"] for t in state.trash() if "dataset" in t}
    assert entries["del_old"]["Id"] not in left and entries["del_old"]["Id"] in trashed
    assert entries["del_edge"]["Id"] not in left
    restoring = left[entries["del_old_arch"]["Id"]]
    assert restoring.get("ArchiveStatus") == "Restoring" or restoring["IsArchived"] is False, restoring
    for k in ("arc_mid", "del_90", "del_mid"):
        assert left[entries[k]["Id"]].get("ArchiveStatus") == "Archiving", k
    assert entries["arc_old"]["Id"] not in left and entries["arc_old"]["Id"] in trashed
    for k in ("del_new", "del_mid_arch", "arc_mid_arch", "arc_60", "young_old", "young_mid", "other_old",
              "other_mid", "other_old_arch"):
        before, after = entries[k], left[entries[k]["Id"]]
        assert (after["IsArchived"], after.get("ArchiveStatus")) == (before["IsArchived"], None), k


def run_world():
    w = WorldBuilder()
    r = {}
    # runs whose Name is the run folder of a source-project analysis (YYYYMMDD and YYMMDD forms,
    # a userReference with a suffix after the run folder)
    w.analysis("20260801_LH00619_0013_B22CCFJLT4", start=ago(days=3))
    r["old"] = w.run("20260801_LH00619_0013_B22CCFJLT4", ago(days=100))
    w.analysis("260802_NB501234_0042_AHXXXXBGXY_rerun2", start=ago(days=3))
    r["old_arch"] = w.run("260802_NB501234_0042_AHXXXXBGXY", ago(days=100), archived=True)
    w.analysis("20260901_LH00619_0020_B22DDFJLT4", start=ago(days=3), status="FAILED")
    r["mid"] = w.run("20260901_LH00619_0020_B22DDFJLT4", ago(days=70))
    w.analysis("20260902_LH00619_0021_B22EEFJLT4", start=ago(days=3))
    r["mid_arch"] = w.run("20260902_LH00619_0021_B22EEFJLT4", ago(days=70), archived=True)
    w.analysis("20260903_LH00619_0022_B22FFFJLT4", start=ago(days=3))
    r["at_90"] = w.run("20260903_LH00619_0022_B22FFFJLT4", at(90 * DAY))
    w.analysis("20260904_LH00619_0023_B22GGFJLT4", start=ago(days=3))
    r["at_90p"] = w.run("20260904_LH00619_0023_B22GGFJLT4", at(90 * DAY + SECOND))
    w.analysis("20260905_LH00619_0024_B22HHFJLT4", start=ago(days=3))
    r["at_60"] = w.run("20260905_LH00619_0024_B22HHFJLT4", at(60 * DAY))
    w.analysis("20261120_LH00619_0030_B22JJFJLT4", start=ago(days=3))
    r["new"] = w.run("20261120_LH00619_0030_B22JJFJLT4", ago(days=5))
    # names that are not the run folder of any analysis: another date form, a run folder that is
    # not at the start of the userReference
    w.analysis("20260805_LH00619_0025_B22KKFJLT4", start=ago(days=3))
    r["other_form"] = w.run("260805_LH00619_0025_B22KKFJLT4", ago(days=100))
    w.analysis("rerun-20260806_LH00619_0026_B22LLFJLT4", start=ago(days=3))
    r["not_leading"] = w.run("20260806_LH00619_0026_B22LLFJLT4", ago(days=100))
    # runs with no analysis in the source project (one has an analysis in another project)
    r["orphan_old"] = w.run("20260701_LH00619_0009_B22AAFJLT4", ago(days=100))
    r["orphan_mid"] = w.run("20260702_LH00619_0010_B22ABFJLT4", ago(days=70))
    r["orphan_old_arch"] = w.run("20260703_LH00619_0011_B22ACFJLT4", ago(days=100), archived=True)
    w.project("elsewhere")
    w.analysis("20260704_LH00619_0012_B22ADFJLT4", start=ago(days=3), project="elsewhere")
    r["elsewhere_old"] = w.run("20260704_LH00619_0012_B22ADFJLT4", ago(days=100))
    return w, r


def test_runs_default_source_scope_then_all(make_orch):
    w, r = run_world()
    orch = make_orch(w.build())
    source = {
        "old": (DEL_RUN, "delete", None),
        "old_arch": (DEL_RUN, "unarchive", "delete"),
        "mid": (ARC_RUN, "archive", None),
        "at_90": (ARC_RUN, "archive", None),
        "at_90p": (DEL_RUN, "delete", None),
    }
    plan = orch.plan()
    assert_well_formed(plan)
    assert plan.doc["vars"].get("bssh_runs", "source") == "source"
    assert lifecycle(plan) == sorted((p, a, r[k], t) for k, (p, a, t) in source.items()), plan.brief()
    for x in plan.select(kind="bssh.run"):
        assert x["resource"]["id"] in {r[k] for k in source}

    everything = orch.plan("bssh_runs=all")
    assert_well_formed(everything)
    allmap = {k: ((DEL_ALL if p == DEL_RUN else ARC_ALL), a, t) for k, (p, a, t) in source.items()}
    allmap |= {"orphan_old": (DEL_ALL, "delete", None), "orphan_mid": (ARC_ALL, "archive", None),
               "orphan_old_arch": (DEL_ALL, "unarchive", "delete"), "elsewhere_old": (DEL_ALL, "delete", None),
               "other_form": (DEL_ALL, "delete", None), "not_leading": (DEL_ALL, "delete", None)}
    assert lifecycle(everything) == sorted((p, a, r[k], t) for k, (p, a, t) in allmap.items()), everything.brief()

    orch.apply()  # default scope: orphans are untouched
    runs = orch.state().runs()
    assert r["old"] not in runs and r["at_90p"] not in runs
    assert runs[r["mid"]].get("ArchiveStatus") == "Archiving"
    for k in ("orphan_old", "orphan_mid", "orphan_old_arch", "elsewhere_old", "mid_arch", "at_60", "new",
              "other_form", "not_leading"):
        assert r[k] in runs and runs[r[k]].get("ArchiveStatus") is None, k


def trash_world():
    w = WorldBuilder()
    w.analysis(start=ago(days=100), files=["M-1_S1_L001_R1_001.fastq.gz"], bssh_projects=["bs_del"])
    a = w.dataset("a", ago(days=100))
    b = w.dataset("b", ago(days=120))
    w.bs_project("bs_del", [a, b])
    w.analysis("20260801_LH00619_0013_B22CCFJLT4", start=ago(days=3))
    run = w.run("20260801_LH00619_0013_B22CCFJLT4", ago(days=100))
    return w, [a["Id"], b["Id"], run]


def test_empty_trash_default_off(make_orch):
    w, deleted = trash_world()
    orch = make_orch(w.build())
    plan = orch.plan()
    assert plan.select(action="purge_trash") == []
    assert plan.ids(action="delete") == set(deleted)
    orch.apply()
    assert {t.get("dataset", t.get("run", {})).get("Id") for t in orch.state().trash()} == set(deleted)


def test_empty_trash_after_basespace_deletes(make_orch):
    w, deleted = trash_world()
    orch = make_orch(w.build())
    plan = orch.plan("empty_trash=true")
    assert_well_formed(plan)
    purge = plan.one(action="purge_trash")
    assert purge["policy"] == TRASH and purge["resource"]["kind"] == "bssh.trash"
    bs_deletes = [x["id"] for x in plan.select(action="delete") if x["resource"]["kind"].startswith("bssh.")]
    assert len(bs_deletes) == 3
    assert set(purge["depends_on"]) >= set(bs_deletes)
    orch.apply("empty_trash=true")
    state = orch.state()
    assert state.trash() == []
    assert not set(deleted) & (set(state.datasets()) | set(state.runs()))


def test_empty_trash_without_basespace_delete_plans_nothing(make_orch):
    w = WorldBuilder()
    w.analysis(start=ago(days=100), files=["Reports/x.csv"], folder_status="AVAILABLE")  # an ICA delete only
    w.analysis(start=ago(days=70), bssh_projects=["bs_arc"])
    w.bs_project("bs_arc", [w.dataset("a", ago(days=70))])  # a BaseSpace archive only
    orch = make_orch(w.build())
    plan = orch.plan("empty_trash=true")
    assert plan.select(action="delete") and plan.select(action="archive", kind="bssh.dataset")
    assert plan.select(action="purge_trash") == []


def test_resources_reached_twice_are_planned_once(make_orch):
    w = WorldBuilder()
    for _ in range(2):  # two old analyses name the same project
        w.analysis(start=ago(days=100), bssh_projects=["bs_del"])
    d = w.dataset("d", ago(days=100))
    w.bs_project("bs_del", [d])
    w.analysis("20260801_LH00619_0013_B22CCFJLT4", start=ago(days=4))         # a run and its requeue
    w.analysis("20260801_LH00619_0013_B22CCFJLT4_requeue", start=ago(days=3))
    run = w.run("20260801_LH00619_0013_B22CCFJLT4", ago(days=100))
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    assert lifecycle(plan) == sorted([(DEL_DS, "delete", d["Id"], None), (DEL_RUN, "delete", run, None)])


def test_named_project_missing_on_basespace(make_orch):
    """bsshoutput.json naming a project BaseSpace does not have: said on stderr, the others still age."""
    w = WorldBuilder()
    w.analysis(start=ago(days=100), bssh_projects=["gone_project", "bs_del"])
    d = w.dataset("d", ago(days=100))
    w.bs_project("bs_del", [d])
    orch = make_orch(w.build())
    plan = orch.plan()
    assert "gone_project" in plan.result.stderr
    assert lifecycle(plan) == [(DEL_DS, "delete", d["Id"], None)]


def test_stale_saved_plan_deletes_nothing_changed_and_keeps_the_trash(make_orch, tmp_path):
    """A dataset archived by someone between plan and apply is not deleted from the saved plan, and
    the whole-trash purge (which depends on every BaseSpace delete) does not run."""
    w = WorldBuilder()
    w.analysis(start=ago(days=100), bssh_projects=["bs_del"])
    d1, d2 = w.dataset("d1", ago(days=100)), w.dataset("d2", ago(days=100))
    w.bs_project("bs_del", [d1, d2])
    orch = make_orch(w.build())
    saved = tmp_path / "reviewed.json"
    assert orch.plan_result("empty_trash=true", extra=["--out", str(saved)]).exit_code == 0
    r = requests.post(orch.sandbox.basespace_url + "/v2/archive", json={"DatasetIds": [d2["Id"]]},
                      headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}, timeout=10)
    assert r.ok, r.text
    orch.advance("2h")
    orch.apply_saved(saved, expect_exit=1)
    state = orch.state()
    assert state.datasets()[d2["Id"]]["IsArchived"] is True
    assert [t["dataset"]["Id"] for t in state.trash()] == [d1["Id"]]  # deleted, and the trash kept


def test_unreadable_bsshoutput_fails_closed(make_orch):
    """An analysis whose bsshoutput.json cannot be read (not JSON; archived) is BaseSpace-managed all
    the same: its ICA output is not deleted as if ICA-managed, no BaseSpace data is deleted on a guess,
    and the plan says why (exit 1)."""
    w = WorldBuilder()
    broken = w.analysis(start=ago(days=100), files=["M-1_S1_L001_R1_001.fastq.gz"])
    w.projects[w.source]["data"].append({"path": broken.output + "Reports/bsshoutput.json", "content": "{not json"})
    archived = w.analysis(start=ago(days=100), bssh_projects=["bs_a"], file_status="ARCHIVED")
    w.bs_project("bs_a", [w.dataset("d", ago(days=100))])
    ica = w.analysis(start=ago(days=100), files=["Reports/x.csv"])  # unrelated, ICA-managed
    orch = make_orch(w.build())
    res = orch.plan_result()
    assert res.exit_code == 1, res.describe()
    assert "bsshoutput.json" in res.stderr and "Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    touched = {a["resource"]["id"] for a in doc["actions"]}
    assert not touched & {broken.folder_id, archived.folder_id}
    assert [(a["action"], a["resource"]["id"]) for a in doc["actions"] if a["action"] in ("delete", "unarchive")] \
        == [("delete", ica.folder_id)]  # only the unreadable analyses are held back
