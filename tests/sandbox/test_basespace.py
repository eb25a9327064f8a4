"""BaseSpace routes against the field lists of the API reference (api.md part B)."""

from __future__ import annotations

import pytest
import requests

H = {"Authorization": "Bearer test-token"}

DATASET_FIELDS = {"Id", "Name", "Href", "HrefFiles", "DateCreated", "DateModified", "AppSession", "Project",
                  "TotalSize", "IsDeleted", "IsArchived", "IsFileDataDeleted", "UserOwnedBy", "DatasetType",
                  "Properties", "QcStatus", "UploadStatus", "ValidationStatus", "V1pre3Id", "OriginDataset"}
RUN_FIELDS = {"Id", "Name", "ExperimentName", "DateCreated", "DateModified", "Status", "UserOwnedBy", "Instrument",
              "InstrumentRunStatus", "DateInstrumentStarted", "DateInstrumentCompleted", "FlowcellBarcode",
              "LaneAndQcStatus", "Workflow", "SampleSheetName", "TotalSize", "UploadStatus", "DateUploadStarted",
              "DateUploadCompleted", "IsDeleted", "IsFileDataDeleted", "IsArchived", "IsZipping", "IsZipped", "Href",
              "HrefFiles", "HasFilesInIca", "Properties", "V1Pre3Id"}
PROJECT_FIELDS = {"Id", "Name", "Description", "DateCreated", "DateModified", "UserOwnedBy", "HasCollaborators",
                  "IsDeleted", "TotalSize", "Href", "Permissions"}
PAGING_FIELDS = {"DisplayedCount", "TotalCount", "Offset", "Limit", "SortDir", "SortBy"}
TRASH_FIELDS = {"Id", "Name", "DateDeleted", "TotalSize", "DeletedRun", "DeletedDataset", "DeletedProject",
                "DeletedSample", "DeletedAppSession", "TrashStatus", "HrefPostRestoreFromTrash"}


def get(sb, path, headers=H, **params):
    return requests.get(sb.basespace_url + path, headers=headers, params=params)


def clock(sb, advance):
    requests.post(sb.control_url + "/clock", json={"advance": advance}).raise_for_status()


def assert_no_archive_status(sb, ds, run):
    """BaseSpace v2 documents only ``IsArchived``: no response shows the sandbox's in-flight state."""
    bodies = [get(sb, f"/v2/datasets/{ds}").json(), get(sb, f"/v2/runs/{run}").json(),
              *get(sb, "/v2/datasets", Limit="1024").json()["Items"], *get(sb, "/v2/runs").json()["Items"],
              *get(sb, "/v2/projects/1001/datasets").json()["Items"]]
    assert bodies and not [b["Id"] for b in bodies if "ArchiveStatus" in b]


def test_auth_bearer_x_access_token_and_401(sandbox):
    assert get(sandbox, "/v2/runs").status_code == 200
    assert get(sandbox, "/v2/runs", headers={"x-access-token": "test-token"}).status_code == 200
    assert get(sandbox, "/v2/runs", headers={}, access_token="test-token").status_code == 200
    bad = get(sandbox, "/v2/runs", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and set(bad.json()) == {"ErrorCode", "ErrorMessage", "RequestId", "AdditionalData"}
    assert get(sandbox, "/v2/runs", headers={}).status_code == 401


def test_v1pre3_projects_envelope_and_paging(sandbox):
    body = get(sandbox, "/v1pre3/users/current/projects", Limit=1).json()
    resp = body["Response"]
    assert PAGING_FIELDS <= set(resp) and resp["TotalCount"] == 2 and resp["DisplayedCount"] == 1
    assert PROJECT_FIELDS <= set(resp["Items"][0])
    second = get(sandbox, "/v1pre3/users/current/projects", limit=1, offset=1).json()["Response"]
    assert {resp["Items"][0]["Name"], second["Items"][0]["Name"]} == {"bs_proj_A", "bs_proj_B"}
    assert get(sandbox, "/v2/projects/1001").json()["Name"] == "bs_proj_A"
    assert get(sandbox, "/v2/projects/999").status_code == 404


def test_datasets_fields_filters_and_limit(sandbox):
    body = get(sandbox, "/v2/projects/1001/datasets").json()
    assert set(body) == {"Items", "Paging"} and PAGING_FIELDS == set(body["Paging"])
    assert len(body["Items"]) == 3 and DATASET_FIELDS <= set(body["Items"][0])
    assert body["Items"][0]["Project"]["Name"] == "bs_proj_A"
    archived = get(sandbox, "/v2/projects/1001/datasets", isarchived="True").json()["Items"]
    assert [d["Name"] for d in archived] == ["M-2_L001"]
    everywhere = get(sandbox, "/v2/datasets", projectid="1001", IsArchived="false").json()["Items"]
    assert sorted(d["Name"] for d in everywhere) == ["M-1_L001", "M-3_L001"]
    assert get(sandbox, "/v2/datasets", Limit=1025).status_code == 400
    assert get(sandbox, "/v2/datasets", Limit=1024).status_code == 200
    one = get(sandbox, "/v2/datasets/ds.00000000000000000000000000000001").json()
    assert one["DateCreated"] == "2026-08-01T10:00:00.000Z" and one["IsArchived"] is False
    assert get(sandbox, "/v2/datasets/ds.nope").status_code == 404


def test_runs_fields_and_status_filter(sandbox):
    runs = get(sandbox, "/v2/runs").json()["Items"]
    assert len(runs) == 2 and RUN_FIELDS <= set(runs[0])
    complete = get(sandbox, "/v2/runs", statuses="Complete").json()["Items"]
    assert [r["Id"] for r in complete] == ["2001"]
    both = get(sandbox, "/v2/runs", statuses="Complete,Running").json()["Paging"]["TotalCount"]
    assert both == 2
    assert get(sandbox, "/v2/runs", statuses="Done").status_code == 400
    assert get(sandbox, "/v2/runs/2001").json()["Name"] == "20260801_LH00619_0013_B22CCFJLT4"


def test_archive_and_restore_are_asynchronous(sandbox):
    ds = "ds.00000000000000000000000000000001"
    r = requests.post(sandbox.basespace_url + "/v2/archive", headers=H, json={"DatasetIds": [ds], "RunIds": ["2001"]})
    assert r.status_code == 200
    assert get(sandbox, f"/v2/datasets/{ds}").json()["IsArchived"] is True  # "the status will update right away"
    assert_no_archive_status(sandbox, ds, "2001")
    repeat = requests.post(sandbox.basespace_url + "/v2/archive", headers=H, json={"DatasetIds": [ds]})
    assert repeat.status_code == 400 and "already archived" in repeat.json()["ErrorMessage"]
    early = requests.post(sandbox.basespace_url + "/v2/restore", headers=H, json={"DatasetIds": [ds]})
    assert early.status_code == 400 and "until archiving is complete" in early.json()["ErrorMessage"]
    dump = requests.get(sandbox.control_url + "/state").json()["basespace"]
    assert {d["Name"]: d.get("ArchiveStatus") for p in dump["projects"] for d in p["datasets"]}["M-1_L001"] \
        == "Archiving"
    assert {r["Id"]: r.get("ArchiveStatus") for r in dump["runs"]}["2001"] == "Archiving"
    clock(sandbox, "61m")
    assert get(sandbox, f"/v2/datasets/{ds}").json()["IsArchived"] is True
    assert get(sandbox, "/v2/runs/2001").json()["IsArchived"] is True
    again = requests.post(sandbox.basespace_url + "/v2/archive", headers=H, json={"DatasetIds": [ds]})
    assert again.status_code == 400
    running = requests.post(sandbox.basespace_url + "/v2/archive", headers=H, json={"RunIds": ["2002"]})
    assert running.status_code == 400
    requests.post(sandbox.basespace_url + "/v2/restore", headers=H, json={"DatasetIds": [ds]}).raise_for_status()
    clock(sandbox, "5h")
    assert get(sandbox, f"/v2/datasets/{ds}").json()["IsArchived"] is True  # restoring: still archived
    assert_no_archive_status(sandbox, ds, "2001")
    clock(sandbox, "1h")
    assert get(sandbox, f"/v2/datasets/{ds}").json()["IsArchived"] is False


def test_ineligible_items_refuse_the_whole_request(make_sandbox, small_world):
    ds = small_world["basespace"]["projects"][0]["datasets"]
    ds[0]["IsFileDataDeleted"] = True
    ds[2].update(Id="ds.00000000000000000000000000000003", shared=True)
    sb = make_sandbox(small_world)
    body = requests.get(sb.basespace_url + f"/v2/datasets/{ds[0]['Id']}", headers=H).json()
    assert body["IsFileDataDeleted"] is True
    for bad in (ds[0]["Id"], ds[2]["Id"]):
        r = requests.post(sb.basespace_url + "/v2/archive", headers=H, json={"DatasetIds": [bad], "RunIds": ["2001"]})
        assert r.status_code == 400 and bad in r.json()["ErrorMessage"]
    assert requests.get(sb.basespace_url + "/v2/runs/2001", headers=H).json()["IsArchived"] is False  # all or nothing


def test_archive_rejects_more_than_250_ids(sandbox):
    ids = [f"ds.{i:032x}" for i in range(251)]
    r = requests.post(sandbox.basespace_url + "/v2/archive", headers=H, json={"DatasetIds": ids})
    assert r.status_code == 400 and "250" in r.json()["ErrorMessage"]


def test_delete_moves_to_trash_and_trash_empties(sandbox):
    ds = "ds.00000000000000000000000000000001"
    assert requests.delete(sandbox.basespace_url + f"/v2/datasets/{ds}", headers=H).status_code == 200
    assert requests.delete(sandbox.basespace_url + "/v2/runs/2001", headers=H).status_code == 405  # not in the swagger
    deleted = requests.delete(sandbox.basespace_url + "/v1pre3/runs/2001", headers=H)
    assert deleted.status_code == 200 and deleted.json()["Response"]["DeletedRun"]["Id"] == "2001"
    assert get(sandbox, f"/v2/datasets/{ds}").status_code == 404
    trash = get(sandbox, "/v2/trash").json()
    assert trash["Paging"]["TotalCount"] == 2 and TRASH_FIELDS <= set(trash["Items"][0])
    assert {t["Name"] for t in trash["Items"]} == {"M-1_L001", "20260801_LH00619_0013_B22CCFJLT4"}
    assert requests.delete(sandbox.basespace_url + "/v2/trash", headers=H).status_code == 204
    assert get(sandbox, "/v2/trash").json()["Items"] == []


def test_token_scopes_from_the_world(make_sandbox, small_world):
    small_world["basespace"]["scopes"] = ["READ GLOBAL"]
    sb = make_sandbox(small_world)
    body = get(sb, "/v1pre3/oauthv2/token/current").json()
    assert body["Response"]["Scopes"] == ["READ GLOBAL"]
    r = requests.delete(sb.basespace_url + "/v1pre3/runs/2001", headers=H)
    assert r.status_code == 403
    bad = get(sb, "/v1pre3/oauthv2/token/current", headers={"x-access-token": "wrong"})
    assert bad.status_code == 401 and "ResponseStatus" in bad.json()


@pytest.mark.parametrize("params", [{"SortBy": "Colour"}, {"SortDir": "Up"}, {"Offset": "-1"}, {"isarchived": "maybe"}])
def test_bad_parameters_are_400(sandbox, params):
    assert get(sandbox, "/v2/datasets", **params).status_code == 400


def test_a_refused_route_answers_like_an_unknown_one(make_sandbox, small_world):
    """--refuse-route / world sandbox.refuse_routes / POST /_sandbox/refuse: 404 naming no item."""
    small_world["sandbox"] = {"refuse_routes": ["DELETE /v2/datasets/{id}"]}
    sb = make_sandbox(small_world)
    ds = "ds.00000000000000000000000000000001"
    r = requests.delete(sb.basespace_url + f"/v2/datasets/{ds}", headers=H)
    assert r.status_code == 404 and ds not in r.text
    assert get(sb, f"/v2/datasets/{ds}").status_code == 200  # nothing happened
    assert requests.get(sb.control_url + "/requests", timeout=5).json()["by_route"] == {
        "DELETE /v2/datasets/{id}": 1, "GET /v2/datasets/{id}": 1}
    on = requests.post(sb.control_url + "/refuse", json={"route": "DELETE /v1pre3/runs/{id}"}, timeout=5)
    assert on.json()["refused"] == ["DELETE /v1pre3/runs/{id}", "DELETE /v2/datasets/{id}"]
    assert requests.delete(sb.basespace_url + "/v1pre3/runs/2001", headers=H).status_code == 404
    bad = requests.post(sb.control_url + "/refuse", json={"route": "DELETE /v2/nothing/{id}"}, timeout=5)
    assert bad.status_code == 400 and "no such route" in bad.json()["error"]
