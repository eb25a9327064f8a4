"""The shared HTTP layer against a tiny scripted werkzeug server (behaviour the sandbox cannot script)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from orch.connectors.http import (HeaderAuth, HttpClient, HttpConfig, bssh_v1_pages, bssh_v2_pages, flatten,
                                  ica_cursor_pages, ica_offset_pages)
from orch.connectors.ica import IcaClient
from orch.errors import ApiError, Conflict


@pytest.fixture
def server():
    """``server(handler)`` serves ``handler(request) -> Response`` and records every request."""
    started = []

    def start(handler: Callable[[Request], Response]):
        seen: list[dict[str, Any]] = []

        @Request.application
        def app(request: Request) -> Response:
            seen.append({"path": request.path, "raw": request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"), "headers": dict(request.headers), "t": time.monotonic(),
                         "args": request.args.to_dict(flat=False)})
            return handler(request)

        srv = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return f"http://127.0.0.1:{srv.server_port}", seen

    yield start
    for srv in started:
        srv.shutdown()


FAST = HttpConfig(retries=3, backoff_factor=0.01, backoff_max=0.02, backoff_jitter=0)


def test_retry_after_is_honoured(server):
    state = {"n": 0}

    def handler(request):
        state["n"] += 1
        if state["n"] == 1:
            return Response("slow down", 429, headers={"Retry-After": "1"})
        return Response(json.dumps({"id": "p", "name": "x"}), 200, content_type="application/json")

    url, seen = server(handler)
    client = HttpClient("ICA", url, None, config=FAST)
    assert client.call("GET", "/api/projects/{projectId}", path={"projectId": "p"})["name"] == "x"
    assert len(seen) == 2 and seen[1]["t"] - seen[0]["t"] >= 0.95


def test_huge_retry_after_is_capped(server):
    state = {"n": 0}

    def handler(request):
        state["n"] += 1
        return Response("", 503, headers={"Retry-After": "3600"}) if state["n"] == 1 else Response("{}", 200)

    url, seen = server(handler)
    client = HttpClient("ICA", url, None, config=HttpConfig(retries=2, max_retry_after=0.2))
    started = time.monotonic()
    client.call("GET", "/x")
    assert time.monotonic() - started < 5


def test_api_key_goes_only_to_the_api_not_to_download_urls(server):
    def handler(request):
        if request.path.endswith(":createDownloadUrl"):
            return Response(json.dumps({"url": base + "/download/blob?X-Amz-Signature=abc123sig"}), 200,
                            content_type="application/json")
        if request.path == "/download/blob":
            return Response(b"payload", 200)
        return Response("{}", 404)

    base, seen = server(handler)
    ica = IcaClient(base + "/ica/rest", "the-api-key", http=FAST)
    assert ica.read_bytes("p1", "fil.1") == b"payload"
    api, download = seen
    assert api["path"] == "/ica/rest/api/projects/p1/data/fil.1:createDownloadUrl"
    assert api["headers"].get("X-Api-Key") == "the-api-key"
    assert api["headers"]["Accept"] == "application/vnd.illumina.v3+json"
    assert "X-Api-Key" not in download["headers"] and "Authorization" not in download["headers"]


def test_header_auth_repr_hides_the_secret():
    auth = HeaderAuth("http://h/ica/rest", "X-API-Key", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(auth)


def test_error_body_detail_is_used_and_ids_in_path_are_quoted(server):
    def handler(request):
        return Response(json.dumps({"type": "about:blank", "title": "Conflict", "status": 409,
                                    "detail": "a file already exists"}), 409,
                        content_type="application/problem+json")

    url, seen = server(handler)
    client = HttpClient("ICA", url, None, config=FAST)
    with pytest.raises(ApiError) as exc:
        client.call("POST", "/api/projects/{projectId}/data:createFile", path={"projectId": "a/b"}, json={})
    assert str(exc.value) == "ICA POST /api/projects/{projectId}/data:createFile failed: HTTP 409 (a file already exists)"
    assert seen[0]["raw"] == "/api/projects/a%2Fb/data:createFile"  # ids are quoted, never path-joined
    assert len(seen) == 1  # a 409 is not retried


def _pager(pages: dict[Any, dict]) -> tuple[Callable[[dict], dict], list[dict]]:
    calls: list[dict] = []

    def fetch(params: dict) -> dict:
        calls.append(params)
        key = params.get("pageToken") or params.get("pageOffset") or params.get("Offset") or None
        return pages[key]

    return fetch, calls


def test_ica_cursor_paging():
    fetch, calls = _pager({None: {"items": [1, 2], "nextPageToken": "t1"},
                           "t1": {"items": [3, 4], "nextPageToken": "t2"},
                           "t2": {"items": [5], "nextPageToken": None}})
    assert list(flatten(ica_cursor_pages(fetch, 2))) == [1, 2, 3, 4, 5]
    assert [c.get("pageToken") for c in calls] == [None, "t1", "t2"] and calls[0]["pageSize"] == "2"


def test_ica_cursor_paging_follows_an_offset_answer_and_refuses_a_loop():
    fetch, _ = _pager({None: {"items": [1, 2], "nextPageToken": "", "totalItemCount": 3},
                       "2": {"items": [3], "nextPageToken": "", "totalItemCount": 3}})
    assert list(flatten(ica_cursor_pages(fetch, 2))) == [1, 2, 3]
    loop, _ = _pager({None: {"items": [1], "nextPageToken": "t"}, "t": {"items": [2], "nextPageToken": "t"}})
    with pytest.raises(ApiError, match="repeated a page token"):
        list(flatten(ica_cursor_pages(loop, 1)))


def test_ica_offset_and_basespace_paging():
    fetch, calls = _pager({"0": {"items": [1, 2], "totalItemCount": 3}, "2": {"items": [3], "totalItemCount": 3}})
    assert list(flatten(ica_offset_pages(fetch, 2, sort="timeCreated"))) == [1, 2, 3]
    assert calls[0]["sort"] == "timeCreated"
    v2, _ = _pager({None: {"Items": ["a", "b"], "Paging": {"TotalCount": 3}}, 2: {"Items": ["c"], "Paging": {"TotalCount": 3}}})
    assert list(flatten(bssh_v2_pages(v2, 2))) == ["a", "b", "c"]
    v1, _ = _pager({None: {"Response": {"Items": ["a"], "TotalCount": 2}}, 1: {"Response": {"Items": ["b"], "TotalCount": 2}}})
    assert list(flatten(bssh_v1_pages(v1, 1))) == ["a", "b"]
    stuck, calls = _pager({None: {"Items": [], "Paging": {"TotalCount": 10}}})
    assert list(flatten(bssh_v2_pages(stuck, 2))) == [] and len(calls) == 1  # an empty page ends paging


def test_create_file_retried_after_a_lost_response_returns_our_partial_file(server):
    """A 503 whose request was in fact processed, then a 409 on the retry: the PARTIAL file is ours."""
    state = {"creates": 0}
    file_json = {"data": {"id": "fil.new", "details": {"name": "m.csv", "path": "/fastq_manifests/m.csv",
                                                       "status": "PARTIAL", "dataType": "FILE",
                                                       "owningProjectId": "p1"}}, "projectId": "p1"}

    def handler(request):
        if request.path.endswith("data:createFile"):
            state["creates"] += 1
            assert request.headers.get("Idempotency-Key")
            if state["creates"] == 1:
                return Response("{}", 503)
            return Response(json.dumps({"title": "Conflict", "status": 409}), 409,
                            content_type="application/problem+json")
        if request.path.endswith("/data"):
            return Response(json.dumps({"items": [file_json], "nextPageToken": None}), 200,
                            content_type="application/json")
        return Response("{}", 404)

    base, seen = server(handler)
    ica = IcaClient(base + "/ica/rest", "k", http=FAST)
    created = ica.create_file("p1", "/fastq_manifests/", "m.csv")
    assert created.id == "fil.new" and state["creates"] == 2
    assert seen[0]["headers"]["Idempotency-Key"] == seen[1]["headers"]["Idempotency-Key"]


def test_create_file_conflict_without_retry_is_a_conflict(server):
    def handler(request):
        return Response(json.dumps({"title": "Conflict", "status": 409}), 409, content_type="application/problem+json")

    base, seen = server(handler)
    with pytest.raises(Conflict, match="already exists at /f/m.csv"):
        IcaClient(base + "/ica/rest", "k", http=FAST).create_file("p1", "/f/", "m.csv")
    assert len(seen) == 1
