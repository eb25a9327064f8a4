"""The route table: every call orch makes is a row, the doc is generated from it, the sandbox serves it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from connector_helpers import bs_client, counts, reset_counts
from orch.connectors import routes
from orch.connectors.base import RouteUnavailable
from orch.connectors.http import BSSH_V2, ICA_OFFSET, flatten, offset_pages
from orch.errors import ApiError, ConfigError
from orch.sandbox import basespace_api, ica_api

ROOT = Path(__file__).resolve().parents[2]
DS1 = "ds.00000000000000000000000000000001"


def test_platform_contract_doc_is_generated_from_the_table():
    doc = (ROOT / "docs" / "platform-contract.md").read_text()
    assert doc == routes.render_contract(), "run: python -m orch.connectors.routes > docs/platform-contract.md"
    assert "`DELETE /v2/datasets/{id}` (dataset.delete)" in doc and "| unverified |" in doc


def test_no_route_path_outside_the_table():
    """Clients call through the rows: no other connector module spells a platform path."""
    bad = []
    for f in (ROOT / "orch" / "connectors").glob("*.py"):
        if f.name == "routes.py":
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    node.value.startswith(("/api/", "/v1pre3", "/v2/", "/v2")) and len(node.value) > 3:
                bad.append(f"{f.name}:{node.lineno}: {node.value}")
    assert bad == []


def test_every_route_is_served_by_the_sandbox_and_no_undocumented_delete():
    served = {r.template for r in (*ica_api.ROUTES, *basespace_api.ROUTES)}
    assert {r.call for r in routes.all_routes()} <= served
    assert "DELETE /v2/runs/{id}" not in served  # not in the swagger: the sandbox refuses it (405)


def test_dataset_delete_route_is_configurable_without_code():
    assert routes.bs_routes({})["dataset.delete"].call == "DELETE /v2/datasets/{id}"
    mine = routes.bs_routes({routes.DATASET_DELETE_ENV: "DELETE  /v1pre3/datasets/{id}"})["dataset.delete"]
    assert mine.call == "DELETE /v1pre3/datasets/{id}" and routes.DATASET_DELETE_ENV in mine.evidence
    with pytest.raises(ConfigError, match=routes.DATASET_DELETE_ENV):
        routes.bs_routes({routes.DATASET_DELETE_ENV: "/v2/datasets"})


def test_an_unknown_dataset_delete_route_is_route_unavailable_and_deletes_nothing(sandbox, monkeypatch):
    monkeypatch.setenv(routes.DATASET_DELETE_ENV, "DELETE /v1pre3/datasets/{id}")  # the sandbox has no such route
    bs = bs_client(sandbox)
    with pytest.raises(RouteUnavailable) as exc:
        bs.delete_dataset(DS1)
    assert "DELETE /v1pre3/datasets/{id}" in str(exc.value) and routes.DATASET_DELETE_ENV in str(exc.value)
    assert bs.get_dataset(DS1).id == DS1


def test_a_refused_dataset_delete_route_is_route_unavailable(make_sandbox, small_world):
    small_world["sandbox"] = {"refuse_routes": ["DELETE /v2/datasets/{id}"]}
    sb = make_sandbox(small_world)
    bs = bs_client(sb)
    reset_counts(sb)
    with pytest.raises(RouteUnavailable, match="does not know this route"):
        bs.delete_dataset(DS1)
    assert counts(sb)["by_route"] == {"DELETE /v2/datasets/{id}": 1, "GET /v2/datasets/{id}": 1}
    with pytest.raises(RouteUnavailable, match="not attempted"):  # the rest of the run: not sent again
        bs.delete_dataset("ds.00000000000000000000000000000002")
    assert counts(sb)["by_route"]["DELETE /v2/datasets/{id}"] == 1
    bs.delete_run("2001")  # DELETE /v1pre3/runs/{id} is served


def _fake(pages: dict[int, dict], calls: list):
    def fetch(params):
        calls.append(dict(params))
        return pages.get(int(params.get("Offset", params.get("pageOffset", 0))), {"Items": []})
    return fetch


def test_paging_cannot_stop_early():
    """A short page is not the end, a missing TotalCount is not "one page": page on until an empty page."""
    calls: list = []
    pages = {0: {"Items": ["a", "b"]}, 2: {"Items": ["c"]}, 3: {"Items": ["d"], "Paging": {}}}
    assert list(flatten(offset_pages(_fake(pages, calls), BSSH_V2, 1024))) == ["a", "b", "c", "d"]
    assert [c["Offset"] for c in calls] == [0, 2, 3, 4] and calls[0]["Limit"] == 1024
    calls.clear()
    pages = {0: {"Items": ["a"], "Paging": {"TotalCount": 3}}, 1: {"Items": ["b", "c"], "Paging": {"TotalCount": 3}}}
    assert list(flatten(offset_pages(_fake(pages, calls), BSSH_V2, 2))) == ["a", "b", "c"] and len(calls) == 2


def test_ica_offset_paging_past_200000_rows_is_an_error():
    def fetch(params):
        assert params["pageSize"] == "1000"
        return {"items": list(range(1000)), "totalItemCount": 250_000, "nextPageToken": ""}

    got = 0
    with pytest.raises(ApiError, match="more than 200,000 rows"):
        for page in offset_pages(fetch, ICA_OFFSET, 1000):
            got += len(page)
    assert got == 200_000
