"""Sandbox tags: PUT …/data/{dataId} and PUT …/analyses/{analysisId} (only tags change), shown by
GET, by libica's strict models, by the world dump and /_sandbox/state, and kept across dump/load."""

from __future__ import annotations

import copy

import pytest
import requests

from libica.openapi.v2 import ApiException
from libica.openapi.v2.api.project_analysis_api import ProjectAnalysisApi
from libica.openapi.v2.api.project_data_api import ProjectDataApi
from orch.errors import ConfigError
from orch.sandbox.world import dump_world, load_world

SRC = "0d6f0000-0000-4000-8000-000000000001"
DST = "0d6f0000-0000-4000-8000-000000000002"
ANALYSIS = "5c1e0000-0000-4000-8000-00000000000a"
R1 = "fil.a0000000000000000000000000000001"
V3 = "application/vnd.illumina.v3+json"
V4 = "application/vnd.illumina.v4+json"
KEY = {"X-API-Key": "test-key"}


def _state(sandbox) -> dict:
    return requests.get(sandbox.control_url + "/state").json()


def _state_data(sandbox, path: str) -> dict:
    project = next(p for p in _state(sandbox)["ica"]["projects"] if p["id"] == SRC)
    return next(d for d in project["data"] if d["path"] == path)


def _state_analysis(sandbox, analysis_id: str) -> dict:
    project = next(p for p in _state(sandbox)["ica"]["projects"] if p["id"] == SRC)
    return next(a for a in project["analyses"] if a["id"] == analysis_id)


def test_libica_updates_data_tags_and_reads_them_back(sandbox, client):
    api = ProjectDataApi(client)
    pd = api.get_project_data(SRC, R1)
    assert pd.data.details.tags.user_tags == []
    pd.data.details.tags.user_tags = ["handed-off", "qc-ok"]
    pd.data.details.tags.technical_tags = ["run:RUN_A"]
    updated = api.update_project_data(SRC, R1, pd)
    assert updated.data.details.tags.user_tags == ["handed-off", "qc-ok"]
    again = api.get_project_data(SRC, R1)
    assert again.data.details.tags.user_tags == ["handed-off", "qc-ok"]
    assert again.data.details.tags.technical_tags == ["run:RUN_A"]
    assert again.data.details.tags.connector_tags == []
    assert again.data.details.time_modified > pd.data.details.time_created
    path = again.data.details.path
    assert _state_data(sandbox, path)["tags"] == {"technicalTags": ["run:RUN_A"], "userTags": ["handed-off", "qc-ok"]}
    # listings show them too
    listed = api.get_project_data_list(SRC, id=[R1]).items
    assert listed[0].data.details.tags.user_tags == ["handed-off", "qc-ok"]


def test_libica_updates_analysis_tags_v4(sandbox, client):
    api = ProjectAnalysisApi(client)
    client.set_default_header("Accept", V4)
    a = api.get_analysis(SRC, ANALYSIS)
    assert a.tags.user_tags == []
    a.tags.user_tags = ["delivered"]
    updated = api.update_analysis(SRC, ANALYSIS, a)
    assert updated.tags.user_tags == ["delivered"]
    assert api.get_analysis(SRC, ANALYSIS).tags.user_tags == ["delivered"]
    v3 = requests.get(f"{sandbox.ica_url}/api/projects/{SRC}/analyses/{ANALYSIS}", headers=KEY).json()
    assert v3["tags"]["userTags"] == ["delivered"] and "ownerId" in v3
    assert _state_analysis(sandbox, ANALYSIS)["tags"] == {"userTags": ["delivered"]}
    found = requests.post(f"{sandbox.ica_url}/api/projects/{SRC}/analysis:search", headers=KEY,
                          json={"userTags": ["delivered"]}).json()["items"]
    assert [x["id"] for x in found] == [ANALYSIS]
    listed = requests.get(f"{sandbox.ica_url}/api/projects/{SRC}/analyses", headers=KEY,
                          params={"usertag": "nope"}).json()["items"]
    assert listed == []


def test_analysis_put_honours_if_match(sandbox):
    url = f"{sandbox.ica_url}/api/projects/{SRC}/analyses/{ANALYSIS}"
    got = requests.get(url, headers={**KEY, "Accept": V4})
    etag, body = got.headers["ETag"], got.json()
    body["tags"]["userTags"] = ["first"]
    ok = requests.put(url, headers={**KEY, "Content-Type": V4, "Accept": V4, "If-Match": etag}, json=body)
    assert ok.status_code == 200 and ok.headers["Content-Type"] == V4 and ok.headers["ETag"] != etag
    body["tags"]["userTags"] = ["second"]  # written against the old version: a conflict, nothing changes
    stale = requests.put(url, headers={**KEY, "Content-Type": V4, "If-Match": etag}, json=body)
    assert stale.status_code == 409 and stale.headers["Content-Type"] == "application/problem+json"
    assert requests.get(url, headers=KEY).json()["tags"]["userTags"] == ["first"]
    # without If-Match the last writer wins; without Accept v4 the answer is v3
    plain = requests.put(url, headers=KEY, json={"tags": {"userTags": ["third"]}})
    assert plain.status_code == 200 and plain.headers["Content-Type"] == V3
    assert plain.json()["tags"] == {"technicalTags": [], "userTags": ["third"], "referenceTags": []}


def test_put_refusals(sandbox):
    data_url = f"{sandbox.ica_url}/api/projects/{SRC}/data/{R1}"
    pd = requests.get(data_url, headers=KEY).json()
    wrong = copy.deepcopy(pd)
    wrong["data"]["id"] = "fil.other"
    assert requests.put(data_url, headers=KEY, json=wrong).status_code == 400
    bad = copy.deepcopy(pd)
    bad["data"]["details"]["tags"]["userTags"] = "not-a-list"
    r = requests.put(data_url, headers=KEY, json=bad)
    assert r.status_code == 400 and "userTags" in r.json()["detail"]
    assert requests.put(data_url, headers={**KEY, "Content-Type": "text/plain"}, data="x").status_code == 415
    assert requests.put(f"{sandbox.ica_url}/api/projects/{SRC}/data/fil.nope", headers=KEY,
                        json=pd).status_code == 404
    assert requests.put(f"{sandbox.ica_url}/api/projects/{SRC}/analyses/{ANALYSIS}", headers=KEY,
                        json={"id": "5c1e0000-0000-4000-8000-0000000000ff", "tags": {}}).status_code == 400
    assert requests.get(data_url, headers=KEY).json()["data"]["details"]["tags"]["userTags"] == []


def test_linked_data_shares_its_tags(sandbox):
    link = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data/{R1}", headers=KEY)
    assert link.status_code == 201
    pd = link.json()
    pd["data"]["details"]["tags"]["userTags"] = ["from-destination"]
    assert requests.put(f"{sandbox.ica_url}/api/projects/{DST}/data/{R1}", headers=KEY, json=pd).status_code == 200
    owner_view = requests.get(f"{sandbox.ica_url}/api/projects/{SRC}/data/{R1}", headers=KEY).json()
    assert owner_view["data"]["details"]["tags"]["userTags"] == ["from-destination"]


def test_world_tags_load_dump_and_validate(small_world):
    small_world["ica"]["projects"][0]["data"][0]["tags"] = {"userTags": ["a", "b"], "runInTags": ["r"]}
    small_world["ica"]["projects"][0]["analyses"][0]["tags"] = {"technicalTags": ["t"]}
    first = dump_world(load_world(small_world))
    second = dump_world(load_world(copy.deepcopy(first)))
    assert first == second
    data = first["ica"]["projects"][0]["data"]
    assert next(d for d in data if d["id"] == R1)["tags"] == {"runInTags": ["r"], "userTags": ["a", "b"]}
    assert sum("tags" in d for d in data) == 1  # untagged items dump without a tags key
    assert first["ica"]["projects"][0]["analyses"][0]["tags"] == {"technicalTags": ["t"]}
    small_world["ica"]["projects"][0]["analyses"][0]["tags"] = {"connectorTags": ["x"]}
    with pytest.raises(ConfigError, match="connectorTags"):
        load_world(small_world)


def test_libica_rejects_nothing_after_bulk_tagging(sandbox, client):
    """Every tagged item still satisfies libica's strict models in a listing."""
    api = ProjectDataApi(client)
    for pd in api.get_project_data_list(SRC).items:
        pd.data.details.tags.user_tags = [pd.data.details.name[:20]]
        try:
            api.update_project_data(SRC, pd.data.id, pd)
        except ApiException as exc:  # pragma: no cover - the assertion below names it
            pytest.fail(f"PUT {pd.data.details.path}: {exc.status} {exc.body}")
    names = {pd.data.details.name[:20] for pd in api.get_project_data_list(SRC).items}
    tags = {t for pd in api.get_project_data_list(SRC).items for t in pd.data.details.tags.user_tags}
    assert tags == names
