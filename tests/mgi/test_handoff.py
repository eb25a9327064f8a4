"""Hand-off (contracts section 4, rule 1) through the real CLI against the sandbox."""

from __future__ import annotations

import csv
import io

import pytest

from tests.mgi.checks import HANDOFF, assert_well_formed
from tests.mgi.harness import manifest_bytes
from tests.mgi.worlds import ACCESS_TOKEN, API_KEY, DAY, DESTINATION, NOW, SECOND, WorldBuilder, ago, ts

MANIFEST_HEADER = "file_name,file_path,data_id,project_id"

# base name -> linked? (the MGI rule: ends .fastq.gz, not Undetermined*, matches ^M[-_])
NAME_CASES = {
    "M-1_S1_L001_R1_001.fastq.gz": True,
    "M_123_4325_S2_R2_001.fastq.gz": True,
    "M-1_S1_L001_I1_001.fastq.gz": True,        # index read of an MGI sample: matches the rule
    "Phix_S3_L001_R1_001.fastq.gz": False,
    "m-4_S4_L001_R1_001.fastq.gz": False,       # lower case: the rule is case-sensitive
    "Undetermined_S0_L001_R1_001.fastq.gz": False,
    "M-1_S1_L001_R1_001.fastq": False,          # not gzipped
    "M-5_S5_L001_R1_001.fastq.gz.md5": False,   # does not end in .fastq.gz
    "XM-6_S6_L001_R1_001.fastq.gz": False,      # the rule is anchored at the start of the base name
}


def manifest_path(reference: str) -> str:
    return f"/fastq_manifests/{reference}.download_manifest.csv"


def test_name_cases_plan_and_apply(make_orch_any):
    make_orch = make_orch_any
    w = WorldBuilder()
    folder_like = "Samples/M-8_S8_L001_R1_001.fastq.gz/README.txt"  # a folder with an MGI name: files only
    a = w.analysis(start=ago(days=3), files=list(NAME_CASES) + ["Reports/M-7_nested_R1_001.fastq.gz", folder_like])
    orch = make_orch(w.build())

    plan = orch.plan()
    assert_well_formed(plan)
    expected_linked = {n for n, ok in NAME_CASES.items() if ok} | {"Reports/M-7_nested_R1_001.fastq.gz"}
    linked = {a.file_id(n) for n in expected_linked}
    links = plan.select(action="link")
    got = {x["resource"]["id"] for x in links}
    wrong = {n: ((a.file_id(n) in got), ok) for n, ok in NAME_CASES.items() if (a.file_id(n) in got) != ok}
    assert not wrong, f"(linked, expected) per name: {wrong}\n{plan.brief()}"
    assert got == linked
    for x in links:
        assert x["policy"] == HANDOFF
        assert x["resource"]["kind"] == "ica.data"
        assert x["params"]["to_project_id"] == w.destination_id
        assert x["params"].get("to_project") in (None, DESTINATION)

    man = plan.one(action="manifest")
    assert man["resource"]["kind"] == "ica.analysis" and man["resource"]["id"] == a.id
    assert man["params"]["path"] == manifest_path(a.reference)
    assert man["params"]["to_project_id"] == w.destination_id
    assert man["params"]["rows"] == len(linked)
    assert set(man["depends_on"]) >= {x["id"] for x in links}

    mark = plan.one(action="mark_managed")
    assert mark["resource"]["id"] == a.id
    assert set(mark["depends_on"]) >= {x["id"] for x in links} | {man["id"]}
    assert len(plan.actions) == len(linked) + 2

    orch.apply()
    state = orch.state()
    dest = state.data(DESTINATION)
    for n in NAME_CASES:
        path = a.path(n)
        if NAME_CASES[n]:
            assert path in dest and dest[path]["id"] == a.file_id(n), f"{n} not linked into {DESTINATION}"
            assert dest[path]["owningProjectId"] == w.source_id
        else:
            assert path not in dest, f"{n} must not be linked"
    assert not any("M-8_S8" in p for p in dest), "a folder is never linked"
    rows = list(csv.reader(io.StringIO(manifest_bytes(state, DESTINATION, manifest_path(a.reference)))))
    assert rows[0] == MANIFEST_HEADER.split(",")
    assert sorted(r[2] for r in rows[1:]) == sorted(linked)

    assert a.id in orch.ledger_export()
    assert orch.plan().actions == []


def test_manifest_bytes_sorted_and_quoted(make_orch):
    w = WorldBuilder()
    # inserted in an order that is neither path order nor name order nor id order
    files = ["Samples/Lane_2/M-0_S1_L002_R1_001.fastq.gz",
             'Samples/Lane_1/M-"q"_S3_L001_R1_001.fastq.gz',
             "Samples/Lane_1/M-9_S2_L001_R1_001.fastq.gz",
             "Samples/Lane_1/M-1,x_S1_L001_R1_001.fastq.gz",
             "Samples/Lane_3/M-\u00e9t\u00e9_S4_L003_R1_001.fastq.gz"]
    a = w.analysis(start=ago(days=1), files=files)
    orch = make_orch(w.build())
    plan = orch.plan()
    assert plan.one(action="manifest")["params"]["rows"] == 5
    orch.apply()

    text = manifest_bytes(orch.state(), DESTINATION, manifest_path(a.reference))
    lines = text.splitlines()
    assert lines[0] == MANIFEST_HEADER
    assert len(lines) == 6, text
    ordered = sorted(files, key=lambda n: a.path(n))
    expected = [[n.rsplit("/", 1)[1], a.path(n), a.file_id(n), w.destination_id] for n in ordered]
    assert list(csv.reader(io.StringIO(text)))[1:] == expected
    # quoting is standard CSV: the field holding a comma or a quote is quoted, quotes doubled
    assert lines[1].startswith('"M-""q""_S3_L001_R1_001.fastq.gz","'), lines[1]
    assert lines[2].startswith('"M-1,x_S1_L001_R1_001.fastq.gz","'), lines[2]
    assert lines[3] == f"M-9_S2_L001_R1_001.fastq.gz,{a.path(files[2])},{a.file_id(files[2])},{w.destination_id}"
    assert lines[5].startswith("M-\u00e9t\u00e9_S4_L003_R1_001.fastq.gz,")  # UTF-8, unquoted
    assert text.endswith(("\n", "\r\n"))


def test_already_linked_file_is_not_linked_again(make_orch):
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz", "M-1_S1_L001_R2_001.fastq.gz"])
    w.already_linked(a, "M-1_S1_L001_R1_001.fastq.gz")
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    assert plan.ids(action="link") == {a.file_id("M-1_S1_L001_R2_001.fastq.gz")}
    # the manifest lists every matched file (contract: "one row per matched file"), linked before or now
    assert plan.one(action="manifest")["params"]["rows"] == 2
    orch.apply()
    text = manifest_bytes(orch.state(), DESTINATION, manifest_path(a.reference))
    assert {r[2] for r in list(csv.reader(io.StringIO(text)))[1:]} == {a.file_id(n) for n in a.files}


def test_existing_manifest_is_kept(make_orch):
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    w.destination_file(manifest_path(a.reference), content="written by hand\n")
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    assert plan.select(action="manifest") == []
    link = plan.one(action="link")
    assert link["id"] in plan.one(action="mark_managed")["depends_on"]
    orch.apply()
    assert manifest_bytes(orch.state(), DESTINATION, manifest_path(a.reference)) == "written by hand\n"


def test_analysis_without_mgi_files_is_still_recorded(make_orch):
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["Phix_S1_L001_R1_001.fastq.gz", "Undetermined_S0_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    assert [(x["action"], x["resource"]["id"]) for x in plan.actions] == [("mark_managed", a.id)]
    orch.apply()
    state = orch.state()
    assert not any(p.startswith("/fastq_manifests/") for p in state.data(DESTINATION))
    assert not any(d.get("owningProjectId") for d in state.data(DESTINATION).values())
    assert a.id in orch.ledger_export()
    assert orch.plan().actions == []


# (pipeline.code, status) -> handed off? One world holds them all.
PIPELINE_STATUS_CASES = {
    ("BclConvert_v4_1_23_patch1", "SUCCEEDED"): True,
    ("bcl-convert_v4", "SUCCEEDED"): True,            # (?i)bcl.*convert
    ("DRAGEN_BCL_Convert", "SUCCEEDED"): True,
    ("DRAGEN_Germline_4_2", "SUCCEEDED"): False,       # not BCLConvert
    ("BclConvert_v4_1_23_patch1", "INPROGRESS"): False,  # running
    ("BclConvert_v4_1_23_patch1", "REQUESTED"): False,
    ("BclConvert_v4_1_23_patch1", "FAILED"): False,
    ("BclConvert_v4_1_23_patch1", "ABORTED"): False,
}


def test_only_succeeded_bclconvert_analyses_are_handed_off(make_orch):
    w = WorldBuilder()
    specs = {case: w.analysis(start=ago(days=1), files=["M-1_S1_L001_R1_001.fastq.gz"], pipeline=case[0],
                              status=case[1]) for case in PIPELINE_STATUS_CASES}
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    wrong = []
    for case, handed_off in PIPELINE_STATUS_CASES.items():
        a = specs[case]
        got = sorted(x["action"] for x in plan.actions if x["resource"]["id"] in (a.id, a.file_id(
            "M-1_S1_L001_R1_001.fastq.gz")))
        if got != (["link", "manifest", "mark_managed"] if handed_off else []):
            wrong.append(f"{case}: {got}")
    assert not wrong, "\n".join(wrong) + "\n" + plan.brief()


def test_ledger_export_holds_the_handed_off_analysis(make_orch):
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    orch.apply()
    lines = orch.ledger_export().splitlines()
    # run_id is the run folder name (the leading YYMMDD_INSTRUMENT_NNNN_FLOWCELL), as the old table held
    assert a.reference.startswith(a.user_reference + "-")
    assert lines == ["analysis_id_managed,run_id", f"{a.id},{a.user_reference}"]


def test_glued_legacy_rows_are_both_managed(make_orch):
    """The old table's damage (two rows glued on one line, no final newline) must not make an
    analysis look unmanaged: neither is handed off again."""
    w = WorldBuilder()
    one = w.analysis(start=ago(days=3), files=["M-1_S1_L001_R1_001.fastq.gz"])
    two = w.analysis(start=ago(days=2), files=["M-2_S1_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    orch.ledger_import(f"analysis_id_managed,run_id\n{one.id},{one.reference}{two.id},{two.reference}")
    assert orch.plan().select(policy=HANDOFF) == []


def test_all_files_linked_and_manifest_present_only_records(make_orch):
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    w.already_linked(a, "M-1_S1_L001_R1_001.fastq.gz")
    w.destination_file(manifest_path(a.reference))
    orch = make_orch(w.build())
    plan = orch.plan()
    assert [(x["action"], x["resource"]["id"]) for x in plan.actions] == [("mark_managed", a.id)]


def test_analysis_in_the_ledger_is_not_handed_off(make_orch):
    w = WorldBuilder()
    old = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz"])
    new = w.analysis(start=ago(days=1), files=["M-2_S1_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    orch.ledger_import(f"analysis_id_managed,run_id\n{old.id},{old.reference}\n")
    plan = orch.plan()
    assert_well_formed(plan)
    assert {x["resource"]["id"] for x in plan.select(action="mark_managed")} == {new.id}
    assert plan.ids(action="link") == {new.file_id("M-2_S1_L001_R1_001.fastq.gz")}
    assert plan.one(action="manifest")["resource"]["id"] == new.id


def test_handoff_max_age_boundary(make_orch):
    w = WorldBuilder()
    edge = w.analysis(start=ts(NOW - 60 * DAY), files=["M-1_S1_L001_R1_001.fastq.gz"])
    past = w.analysis(start=ts(NOW - 60 * DAY - SECOND), files=["M-2_S1_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    plan = orch.plan()
    assert_well_formed(plan)
    assert plan.ids(policy=HANDOFF, action="mark_managed") == {edge.id}
    assert plan.ids(policy=HANDOFF, action="link") == {edge.file_id("M-1_S1_L001_R1_001.fastq.gz")}
    # the variable moves the limit
    wider = orch.plan("handoff_max_age_days=61")
    assert wider.ids(policy=HANDOFF, action="mark_managed") == {edge.id, past.id}


def test_undetermined_excluded_whatever_the_name_rule(make_orch):
    """``Undetermined*`` and non-``.fastq.gz`` files stay out even when ``mgi_name_regex`` would take them."""
    w = WorldBuilder()
    names = ["Undetermined_S0_L001_R1_001.fastq.gz", "Phix_S3_L001_R1_001.fastq.gz", "m-4_S4_L001_R1_001.fastq.gz",
             "M-1_S1_L001_R1_001.fastq"]
    a = w.analysis(start=ago(days=1), files=names)
    orch = make_orch(w.build())
    plan = orch.plan(r"mgi_name_regex=_S\d+_")
    assert plan.ids(action="link") == {a.file_id(names[1]), a.file_id(names[2])}, plan.brief()
    assert plan.one(action="manifest")["params"]["rows"] == 2


def test_failed_link_does_not_lose_the_handoff(make_orch):
    """A link that fails leaves the manifest unwritten and the analysis unrecorded: the next run
    hands it off again (losing a hand-off silently is the second-worst thing orch can do)."""
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz", "M-2_S1_L001_R1_001.fastq.gz"])
    blocked = a.path("M-1_S1_L001_R1_001.fastq.gz")
    w.projects[DESTINATION]["data"].append({"path": blocked, "content": "a different file"})
    orch = make_orch(w.build())
    assert sorted(x["action"] for x in orch.plan().actions) == ["link", "link", "manifest", "mark_managed"]
    orch.apply(expect_exit=1)
    state = orch.state()
    assert manifest_path(a.reference) not in state.data(DESTINATION)
    assert a.id not in orch.ledger_export()
    retry = orch.plan()
    assert retry.ids(action="link") == {a.file_id("M-1_S1_L001_R1_001.fastq.gz")}
    assert retry.ids(action="mark_managed") == {a.id} and retry.select(action="manifest")


def test_saved_plan_applies_the_handoff(make_orch_any, tmp_path):
    """`orch plan --out` then `orch apply PLAN.json`: the reviewed plan is what happens."""
    w = WorldBuilder()
    a = w.analysis(start=ago(days=2), files=["M-1_S1_L001_R1_001.fastq.gz", "Phix_S2_L001_R1_001.fastq.gz"])
    orch = make_orch_any(w.build())
    saved = tmp_path / "reviewed.json"
    res = orch.plan_result(extra=["--out", str(saved)])
    assert res.exit_code == 0, res.describe()
    assert API_KEY not in saved.read_text() and ACCESS_TOKEN not in saved.read_text()
    orch.apply_saved(saved)
    state = orch.state()
    assert a.path("M-1_S1_L001_R1_001.fastq.gz") in state.data(DESTINATION)
    assert a.path("Phix_S2_L001_R1_001.fastq.gz") not in state.data(DESTINATION)
    assert manifest_bytes(state, DESTINATION, manifest_path(a.reference)).startswith(MANIFEST_HEADER)
    assert a.id in orch.ledger_export()
    # the same saved plan again: everything is already done, nothing is done twice
    again = orch.apply_saved(saved)
    assert len([d for d in orch.state().data(DESTINATION).values() if d["path"].startswith("/fastq_manifests/") and not d["path"].endswith("/")]) == 1
    assert "Traceback" not in again.stderr


def test_large_handoff_links_every_file(make_orch):
    """More MGI files than one ICA link batch holds (1000): every one is linked and listed."""
    w = WorldBuilder()
    names = [f"M-{i}_S{i}_L001_R1_001.fastq.gz" for i in range(1, 1002)]
    a = w.analysis(start=ago(days=1), files=names)
    orch = make_orch(w.build())
    orch.apply()
    state = orch.state()
    linked = {d["id"] for d in state.data(DESTINATION).values() if d.get("owningProjectId")}
    assert linked == {a.file_id(n) for n in names}
    rows = list(csv.reader(io.StringIO(manifest_bytes(state, DESTINATION, manifest_path(a.reference)))))
    assert len(rows) == 1 + len(names) and rows[1:] == sorted(rows[1:], key=lambda r: r[1])


@pytest.mark.parametrize("var", ["mgi_name_regex=[", "days_to_delete=ninety", "no_such_var=1"])
def test_bad_variable_is_one_clear_line(make_orch, var):
    w = WorldBuilder()
    w.analysis(start=ago(days=1), files=["M-1_S1_L001_R1_001.fastq.gz"])
    orch = make_orch(w.build())
    res = orch.plan_result(var)
    assert res.exit_code == 1, res.describe()
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error:") and "Traceback" not in res.stderr, res.describe()
    assert var.split("=")[0] in res.stderr or var.split("=")[1] in res.stderr, res.describe()
    assert orch.state().data(DESTINATION) == {}  # nothing happened
