"""IcaClient against the sandbox over real HTTP."""

from __future__ import annotations

import os

import pytest
import requests

from connector_helpers import DEST, SOURCE, counts, ica_client, reset_counts, state
from orch.errors import ApiError, ConfigError, Conflict, NotFound

A_ID = "5c1e0000-0000-4000-8000-00000000000a"
B_ID = "5c1e0000-0000-4000-8000-00000000000b"
RUN_A_OUT = "/ilmn-analyses/RUN_A/output/"


def test_find_project_exact_name(ica):
    assert ica.find_project("ken_debug").id == SOURCE
    assert ica.find_project("Ken_demos").id == DEST
    assert ica.get_project(SOURCE).name == "ken_debug"


def test_unknown_project_name_is_a_clear_not_found(ica):
    with pytest.raises(NotFound) as exc:
        ica.find_project("no_such_project")
    assert str(exc.value).startswith("ICA project 'no_such_project' not found")
    with pytest.raises(NotFound) as exc:
        ica.find_project("KEN_DEBUG")  # search is fuzzy, the match is exact
    assert "did you mean 'ken_debug'" in str(exc.value)


def test_ambiguous_project_name_is_a_config_error(make_sandbox, small_world):
    small_world["ica"]["projects"].append({"name": "ken_debug", "id": "0d6f0000-0000-4000-8000-000000000009"})
    sb = make_sandbox(small_world)
    with pytest.raises(ConfigError, match="ambiguous: 2 projects"):
        ica_client(sb).find_project("ken_debug")


def test_list_analyses_filters_statuses_on_the_server(sandbox, ica):
    everything = list(ica.list_analyses(SOURCE))
    assert len(everything) == 3
    reset_counts(sandbox)
    final = list(ica.list_analyses(SOURCE, ["SUCCEEDED", "FAILEDFINAL"]))
    assert {a.id for a in final} == {A_ID, B_ID}
    running = list(ica.list_analyses(SOURCE, ["INPROGRESS"]))  # V3 name, sent as IN_PROGRESS
    assert [a.status for a in running] == ["INPROGRESS"]
    assert counts(sandbox)["by_route"] == {"POST /api/projects/{projectId}/analysis:search": 2}
    a = {x.id: x for x in everything}[A_ID]
    assert a.pipeline_code == "BclConvert_v4_1_23_patch1" and a.user_reference == "RUN_A"
    assert a.start_date.isoformat() == "2026-11-20T09:00:00+00:00"


def test_get_analysis_uses_v4_and_normalises_status(ica):
    b = ica.get_analysis(SOURCE, B_ID)
    assert b.status == "FAILEDFINAL"  # V4 FAILED_FINAL on the wire
    assert b.raw["status"] == "FAILED_FINAL"
    with pytest.raises(NotFound):
        ica.get_analysis(SOURCE, "5c1e0000-0000-4000-8000-0000000000ff")


def test_output_files_is_one_listing_per_output_folder(sandbox, ica):
    outputs = ica.analysis_outputs(SOURCE, A_ID)
    assert [(o.code, o.data_type) for o in outputs] == [("Output", "FOLDER")]
    reset_counts(sandbox)
    files = ica.output_files(SOURCE, A_ID)
    assert [f.name for f in files] == ["bsshoutput.json", "M-1_S1_L001_R1_001.fastq.gz",
                                       "M-1_S1_L001_R2_001.fastq.gz", "Undetermined_S0_L001_R1_001.fastq.gz",
                                       "X-2_S2_L001_R1_001.fastq.gz"]
    assert all(f.data_type == "FILE" and f.path.startswith(RUN_A_OUT) for f in files)
    # outputs were cached; one batch get of the folder, one recursive listing
    assert counts(sandbox)["by_route"] == {"GET /api/projects/{projectId}/data": 2}


def test_list_data_filters(ica):
    by_ids = list(ica.list_data(SOURCE, ids=["fil.a0000000000000000000000000000001",
                                             "fil.a0000000000000000000000000000003", "fil.nope"]))
    assert sorted(d.name for d in by_ids) == ["M-1_S1_L001_R1_001.fastq.gz", "X-2_S2_L001_R1_001.fastq.gz"]
    one = list(ica.list_data(SOURCE, full_path="/scratch/notes.txt"))
    assert [d.size for d in one] == [len("hello sandbox\n")]
    children = list(ica.list_data(SOURCE, parent_folder_path="/ilmn-analyses/RUN_A/output/Samples/"))
    assert [(d.name, d.data_type) for d in children] == [("Lane_1", "FOLDER")]
    archived = list(ica.list_data(SOURCE, statuses=["ARCHIVED"], data_type="FILE"))
    assert [d.name for d in archived] == ["M-9_S1_L001_R1_001.fastq.gz"]
    named = list(ica.list_data(SOURCE, filenames=["bsshoutput.json"]))
    assert [d.path for d in named] == [RUN_A_OUT + "Reports/bsshoutput.json"]
    assert list(ica.list_data(SOURCE, ids=[])) == []


def test_prefix_listing_is_case_sensitive_on_the_client(ica):
    """ICA matches filePath prefixes case-insensitively; orch must not widen a selection."""
    assert list(ica.list_data(SOURCE, path_prefix="/ILMN-analyses/")) == []
    assert len(list(ica.list_data(SOURCE, path_prefix="/ilmn-analyses/", data_type="FILE"))) == 6


def test_paging_across_many_pages(make_sandbox, small_world):
    small_world["ica"]["projects"][0]["data"] += [
        {"path": f"/bulk/f{i:03d}.txt", "timeCreated": "2026-11-01T00:00:00Z"} for i in range(57)]
    sb = make_sandbox(small_world)
    big = {d.id for d in ica_client(sb).list_data(SOURCE, path_prefix="/bulk/", data_type="FILE")}
    reset_counts(sb)
    small = ica_client(sb, page_size=5)
    paged = [d.id for d in small.list_data(SOURCE, path_prefix="/bulk/", data_type="FILE")]
    assert len(paged) == 57 and set(paged) == big  # complete and no duplicates
    assert counts(sb)["by_route"]["GET /api/projects/{projectId}/data"] == 12  # ceil(57 / 5)
    ids = sorted(big)
    assert set(small.get_many(SOURCE, ids)) == big  # id filter over pages too
    analyses = list(ica_client(sb, page_size=1).list_analyses(SOURCE))
    assert len(analyses) == 3


def test_read_bytes_and_run_cache(sandbox, ica):
    data = list(ica.list_data(SOURCE, filenames=["bsshoutput.json"]))[0]
    reset_counts(sandbox)
    body = ica.read_bytes(SOURCE, data.id)
    assert body == b'{"Projects": {"OutputProject": {"Name": "bs_proj_A"}}}'
    assert ica.read_bytes(SOURCE, data.id) == body  # cached: not fetched twice
    assert ica.get_data(SOURCE, data.id).name == "bsshoutput.json"  # filled by the listing
    assert counts(sandbox)["by_route"] == {
        "POST /api/projects/{projectId}/data/{dataId}:createDownloadUrl": 1}
    with pytest.raises(ApiError, match="larger than 10 bytes"):
        ica.read_bytes(SOURCE, list(ica.list_data(SOURCE, full_path="/scratch/notes.txt"))[0].id, max_bytes=10)


def test_link_reports_per_item_results_and_already_linked(make_sandbox, small_world):
    small_world["timing"]["link_batch"] = "1s"
    sandbox = make_sandbox(small_world)
    ica = ica_client(sandbox)
    m1, m2 = "fil.a0000000000000000000000000000001", "fil.a0000000000000000000000000000002"
    results = ica.link(DEST, [m1, m2, "fil.0000000000000000000000000000dead"])
    assert [(r.data_id, r.ok) for r in results] == [(m1, True), (m2, True),
                                                    ("fil.0000000000000000000000000000dead", False)]
    assert "not found" in results[2].message
    again = ica.link(DEST, [m1])
    assert again[0].ok and again[0].message == "already linked"
    dest = next(p for p in state(sandbox)["ica"]["projects"] if p["id"] == DEST)
    assert {d.get("id") for d in dest["data"]} >= {m1, m2}
    linked = {d.id: d for d in ica.list_data(DEST, data_type="FILE")}
    assert linked[m1].owning_project_id == SOURCE and linked[m1].project_id == DEST


def test_link_never_polls_forever(make_sandbox, small_world):
    small_world["timing"]["link_batch"] = "1h"
    sb = make_sandbox(small_world)
    client = ica_client(sb, link_timeout=0.3, link_poll=(0.05, 0.1))
    results = client.link(DEST, ["fil.a0000000000000000000000000000001"])
    assert not results[0].ok and "still RUNNING" in results[0].message


def test_archive_unarchive_delete(sandbox, ica):
    notes = list(ica.list_data(SOURCE, full_path="/scratch/notes.txt"))[0]
    ica.archive(SOURCE, notes.id)
    assert ica.get_data(SOURCE, notes.id).status == "ARCHIVING"  # the cache was cleared by the write
    requests.post(sandbox.control_url + "/clock", json={"advance": "2h"}, timeout=5).raise_for_status()
    ica.clear_cache()
    assert ica.get_data(SOURCE, notes.id).status == "ARCHIVED"
    ica.unarchive(SOURCE, notes.id)
    assert ica.get_data(SOURCE, notes.id).status == "UNARCHIVING"
    folder = list(ica.list_data(SOURCE, full_path=RUN_A_OUT))[0]
    ica.delete(SOURCE, folder.id)
    assert ica.get_data(SOURCE, folder.id).status == "DELETING"
    with pytest.raises(NotFound):
        ica.archive(SOURCE, "fil.0000000000000000000000000000dead")


def test_create_file_conflict_and_upload_round_trip(sandbox):
    ica = ica_client(sandbox, multipart_threshold=5 * 1024 * 1024)
    created = ica.create_file(DEST, "/fastq_manifests/", "RUN_A.download_manifest.csv")
    assert created.status == "PARTIAL" and created.path == "/fastq_manifests/RUN_A.download_manifest.csv"
    with pytest.raises(Conflict, match="already exists at /fastq_manifests/RUN_A.download_manifest.csv"):
        ica.create_file(DEST, "/fastq_manifests", "RUN_A.download_manifest.csv")
    small = b"file_name,file_path,data_id,project_id\nM-1.fastq.gz,/a/M-1.fastq.gz,fil.1,p\n"
    ica.upload_bytes(DEST, created.id, small)
    assert ica.get_data(DEST, created.id).status == "AVAILABLE"
    assert ica.read_bytes(DEST, created.id) == small
    big = os.urandom(6 * 1024 * 1024 + 123)  # above the threshold: a multipart upload
    other = ica.create_file(DEST, "/big/", "blob.bin")
    ica.upload_bytes(DEST, other.id, big)
    assert ica.get_data(DEST, other.id).size == len(big)
    assert ica.read_bytes(DEST, other.id, max_bytes=len(big)) == big


def test_outputs_of_many_analyses_concurrently(sandbox, ica):
    reset_counts(sandbox)
    outs = ica.outputs_of(SOURCE, [A_ID, B_ID, A_ID])
    assert set(outs) == {A_ID, B_ID}
    assert [o.name for o in outs[B_ID]] == ["output"]
    ica.outputs_of(SOURCE, [A_ID, B_ID])
    assert counts(sandbox)["by_route"] == {"GET /api/projects/{projectId}/analyses/{analysisId}/outputs": 2}


def test_typed_inventory(ica):
    notes = list(ica.list_data(SOURCE, full_path="/scratch/notes.txt"))[0]
    assert notes.time_created.isoformat() == "2026-10-01T00:00:00+00:00"
    assert notes.attr("fileSizeInBytes") == 14 and notes.attr("status") == "AVAILABLE"
    assert notes.ref()["path"] == "/scratch/notes.txt"
    a = ica.get_analysis(SOURCE, A_ID)
    assert a.attr("pipeline.code") == "BclConvert_v4_1_23_patch1"



def test_files_under_folders_per_folder_or_one_shared_listing(sandbox, ica):
    folders = ["/ilmn-analyses/RUN_A/output/", "/ilmn-analyses/RUN_B/output"]
    reset_counts(sandbox)
    per_folder = ica.files_under_folders(SOURCE, folders)
    assert counts(sandbox)["by_route"] == {"GET /api/projects/{projectId}/data": 2}
    reset_counts(sandbox)
    shared = ica.files_under_folders(SOURCE, folders, shared_root="/ilmn-analyses/")
    assert counts(sandbox)["by_route"] == {"GET /api/projects/{projectId}/data": 1}
    assert {k: [f.id for f in v] for k, v in shared.items()} == {k: [f.id for f in v] for k, v in per_folder.items()}
    assert [len(v) for v in shared.values()] == [5, 1]
    with pytest.raises(ValueError):
        ica.files_under_folders(SOURCE, ["/scratch/"], shared_root="/ilmn-analyses/")
