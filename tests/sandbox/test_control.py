"""Control endpoints: state, clock, request counts; state dumps keep work in flight."""

from __future__ import annotations

import requests

from orch.sandbox.server import Sandbox

SRC = "0d6f0000-0000-4000-8000-000000000001"
DST = "0d6f0000-0000-4000-8000-000000000002"
R1 = "fil.a0000000000000000000000000000001"
H = {"X-API-Key": "test-key"}


def test_requests_are_counted_by_route_and_reset(sandbox):
    for _ in range(3):
        requests.get(f"{sandbox.ica_url}/api/projects/{SRC}/data", headers=H)
    requests.get(f"{sandbox.ica_url}/api/projects/{SRC}/data/{R1}", headers=H)
    requests.get(f"{sandbox.basespace_url}/v2/runs", headers={"x-access-token": "test-token"})
    counts = requests.get(sandbox.control_url + "/requests").json()
    assert counts == {"total": 5, "by_route": {"GET /api/projects/{projectId}/data": 3,
                                               "GET /api/projects/{projectId}/data/{dataId}": 1,
                                               "GET /v2/runs": 1}}
    requests.post(sandbox.control_url + "/requests:reset").raise_for_status()
    assert requests.get(sandbox.control_url + "/requests").json() == {"total": 0, "by_route": {}}


def test_clock_advance_and_jump_forward_only(sandbox):
    r = requests.post(sandbox.control_url + "/clock", json={"advance": "7h"}).json()
    assert r["now"].startswith("2026-11-25T19:00")
    r = requests.post(sandbox.control_url + "/clock", json={"now": "2026-12-01T00:00:00Z"}).json()
    assert r["now"].startswith("2026-12-01T00:00")
    assert requests.post(sandbox.control_url + "/clock", json={"now": "2026-01-01T00:00:00Z"}).status_code == 400
    assert requests.post(sandbox.control_url + "/clock", json={"advance": "soon"}).status_code == 400


def test_state_shows_links_and_forgets_deleted_data(sandbox):
    requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data/{R1}", headers=H).raise_for_status()
    requests.post(f"{sandbox.ica_url}/api/projects/{SRC}/data/fil.a0000000000000000000000000000003:delete",
                  headers=H).raise_for_status()
    requests.post(sandbox.control_url + "/clock", json={"advance": "11m"}).raise_for_status()
    state = requests.get(sandbox.control_url + "/state").json()
    src, dst = state["ica"]["projects"]
    assert {"path": "/ilmn-analyses/RUN_A/output/Samples/Lane_1/M-1_S1_L001_R1_001.fastq.gz", "id": R1,
            "owningProjectId": SRC} in dst["data"]
    assert "fil.a0000000000000000000000000000003" not in {d["id"] for d in src["data"]}


def test_work_in_flight_survives_a_dump(sandbox):
    requests.post(f"{sandbox.ica_url}/api/projects/{SRC}/data/{R1}:archive", headers=H).raise_for_status()
    batch = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/dataLinkingBatch", headers=H,
                          json={"items": [{"dataId": "fil.a0000000000000000000000000000002"}]}).json()
    requests.post(f"{sandbox.basespace_url}/v2/archive", headers={"x-access-token": "test-token"},
                  json={"DatasetIds": ["ds.00000000000000000000000000000001"]}).raise_for_status()
    state = sandbox.dump_state()
    with Sandbox(state) as again:
        def data(pid, did):
            return requests.get(f"{again.ica_url}/api/projects/{pid}/data/{did}", headers=H)

        assert data(SRC, R1).json()["data"]["details"]["status"] == "ARCHIVING"
        job = requests.get(f"{again.ica_url}/api/projects/{DST}/dataLinkingBatch/{batch['id']}", headers=H).json()
        assert job["job"]["status"] == "RUNNING"
        requests.post(again.control_url + "/clock", json={"advance": "2h"}).raise_for_status()
        assert data(SRC, R1).json()["data"]["details"]["status"] == "ARCHIVED"
        job = requests.get(f"{again.ica_url}/api/projects/{DST}/dataLinkingBatch/{batch['id']}", headers=H).json()
        assert job["job"]["status"] == "SUCCEEDED"
        assert data(DST, "fil.a0000000000000000000000000000002").status_code == 200
        ds = requests.get(f"{again.basespace_url}/v2/datasets/ds.00000000000000000000000000000001",
                          headers={"x-access-token": "test-token"}).json()
        assert ds["IsArchived"] is True
        # and a dump of the finished state loads to the same dump
        final = again.dump_state()
    with Sandbox(final) as third:
        assert third.dump_state()["ica"] == final["ica"]


def test_faulted_requests_are_counted_too(make_sandbox):
    from orch.sandbox import faults  # noqa: F401  (shipped by the fault-injection work)

    sb = make_sandbox(error_rate=1.0, seed=1)
    for _ in range(4):
        r = requests.get(f"{sb.ica_url}/api/projects", headers=H)
        assert r.status_code in (500, 503)
    counts = requests.get(sb.control_url + "/requests").json()
    assert counts["by_route"] == {"GET /api/projects": 4} and counts["total"] == 4


def test_outputs_keep_the_folder_id_after_it_is_deleted(sandbox):
    analysis = "5c1e0000-0000-4000-8000-00000000000a"
    url = f"{sandbox.ica_url}/api/projects/{SRC}/analyses/{analysis}/outputs"
    folder_id = requests.get(url, headers=H).json()["items"][0]["data"][0]["dataId"]
    requests.post(f"{sandbox.ica_url}/api/projects/{SRC}/data/{folder_id}:delete", headers=H).raise_for_status()
    requests.post(sandbox.control_url + "/clock", json={"advance": "11m"}).raise_for_status()
    assert requests.get(f"{sandbox.ica_url}/api/projects/{SRC}/data/{folder_id}", headers=H).status_code == 404
    with Sandbox(sandbox.dump_state()) as again:
        outputs = requests.get(f"{again.ica_url}/api/projects/{SRC}/analyses/{analysis}/outputs", headers=H).json()
        assert outputs["items"][0]["data"][0]["dataId"] == folder_id
