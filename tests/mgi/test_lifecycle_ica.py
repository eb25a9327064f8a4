"""Lifecycle of ICA-managed analyses (contracts section 4, rule 2, "otherwise"): the output folder,
by the analysis's startDate, at the exact window boundaries, in every data status."""

from __future__ import annotations

from tests.mgi.checks import HANDOFF, assert_well_formed, lifecycle
from tests.mgi.worlds import DAY, NOW, SECOND, SOURCE, WorldBuilder, ago, ts

DEL, ARC = "delete-ica-outputs", "archive-ica-outputs"
STATS = "Reports/Demultiplex_Stats.csv"


def test_windows_at_exact_boundaries(make_orch):
    w = WorldBuilder()
    cases = {  # age of startDate -> expected lifecycle action on the output folder
        60 * DAY: None,
        60 * DAY + SECOND: "archive",
        90 * DAY: "archive",
        90 * DAY + SECOND: "delete",
        400 * DAY: "delete",
        59 * DAY: None,
    }
    specs = {age: w.analysis(start=ts(NOW - age), files=[STATS], folder_status="AVAILABLE") for age in cases}
    orch = make_orch(w.build())
    ids = {age: s.folder_id for age, s in specs.items()}
    plan = orch.plan()
    assert_well_formed(plan)
    got = {age: [x for x in plan.actions if x["resource"]["id"] == ids[age]] for age in cases}
    for age, want in cases.items():
        actions = [(x["policy"], x["action"]) for x in got[age]]
        expected = [] if want is None else [(DEL if want == "delete" else ARC, want)]
        assert actions == expected, f"startDate {age} old: {actions}\n{plan.brief()}"
        for x in got[age]:
            assert x["resource"]["kind"] == "ica.data" and x["resource"]["path"] == specs[age].output
    # nothing else but hand-off of the one analysis young enough for it
    assert {x["resource"]["id"] for x in plan.actions if x["policy"] != HANDOFF} == {
        ids[a] for a, want in cases.items() if want}
    # --now is the clock of every age: one second later each boundary case moves on
    later = orch.plan(now=NOW + SECOND)
    assert later.on(ids[60 * DAY]) == [("archive", None)]
    assert later.on(ids[90 * DAY]) == [("delete", None)]
    # the windows follow the variables
    moved = orch.plan("days_to_archive=10", "days_to_delete=60")
    assert {(x["action"]) for x in moved.actions if x["resource"]["id"] == ids[60 * DAY]} == {"archive"}
    assert {(x["action"]) for x in moved.actions if x["resource"]["id"] == ids[60 * DAY + SECOND]} == {"delete"}


def test_only_final_analyses_age(make_orch):
    w = WorldBuilder()
    statuses = ["SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED", "INPROGRESS", "REQUESTED"]
    specs = {st: (w.analysis(start=ago(days=100), files=[STATS], status=st),
                  w.analysis(start=ago(days=70), files=[STATS], status=st)) for st in statuses}
    orch = make_orch(w.build())
    plan = orch.plan()
    expected = []
    for st, (old, mid) in specs.items():
        if st in ("SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED"):
            expected += [(DEL, "delete", old.folder_id, None), (ARC, "archive", mid.folder_id, None)]
    assert lifecycle(plan) == sorted(expected), plan.brief()


# status of the output folder -> (action in the delete window, action in the archive window)
STATUS_CASES = {
    "AVAILABLE": (("delete", None), ("archive", None)),
    "ARCHIVED": (("unarchive", "delete"), None),
    "ARCHIVING": (None, None),
    "UNARCHIVING": (None, None),
    "DELETING": (None, None),
    "PARTIAL": (None, None),
}


def test_output_folder_in_each_status(make_orch):
    w = WorldBuilder()
    specs = {}
    for status in STATUS_CASES:
        specs[(status, "delete")] = w.analysis(start=ago(days=95), files=[STATS], folder_status=status,
                                               file_status=status)
        specs[(status, "archive")] = w.analysis(start=ago(days=75), files=[STATS], folder_status=status,
                                                file_status=status)
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    problems = []
    for (status, window), spec in specs.items():
        want = STATUS_CASES[status][0 if window == "delete" else 1]
        fid = spec.folder_id
        got = plan.on(fid)
        if got != ([want] if want else []):
            problems.append(f"{status} folder in the {window} window: {got}, expected {want}")
        file_actions = plan.on(spec.file_id(STATS))
        if file_actions:
            problems.append(f"{status} in the {window} window: the file itself is acted on: {file_actions}")
    assert not problems, "\n".join(problems) + "\n" + plan.brief()
    unarchive = plan.one(action="unarchive")
    assert unarchive["policy"] == DEL and unarchive["params"]["then"] == "delete"


def test_basespace_managed_output_folder_is_left_to_basespace(make_orch):
    w = WorldBuilder()
    old = w.analysis(start=ago(days=100), files=[STATS], folder_status="AVAILABLE", bssh_projects=["bs_x"])
    mid = w.analysis(start=ago(days=70), files=[STATS], folder_status="AVAILABLE", bssh_projects=["bs_x"])
    w.bs_project("bs_x", [])
    orch = make_orch(w.build())
    plan = orch.plan()
    ica = [x for x in plan.actions if x["resource"]["kind"] == "ica.data"]
    assert ica == [], plan.brief()
    orch.apply()
    data = orch.state().data(SOURCE)
    assert data[old.output]["status"] == data[mid.output]["status"] == "AVAILABLE"


def test_sandbox_mode_defaults_to_the_world_clock(tmp_path, monkeypatch):
    """Without --now, ``--sandbox`` ages everything by the world's ``now``, not the real time."""
    from tests.mgi.harness import InProcessOrch

    monkeypatch.chdir(tmp_path)
    world_now = NOW - 30 * DAY
    w = WorldBuilder(now=world_now)
    young = w.analysis(start=ts(world_now - 60 * DAY + 600 * SECOND), files=[STATS])  # 10 min short of 60 d
    old = w.analysis(start=ts(world_now - 60 * DAY - 600 * SECOND), files=[STATS])
    orch = InProcessOrch(w.build(), tmp_path, now=world_now)
    plan = orch.plan(now=False)
    assert plan.doc["now"][:13] == ts(world_now)[:13]
    assert plan.on(young.folder_id) == [] and plan.on(old.folder_id) == [("archive", None)]
