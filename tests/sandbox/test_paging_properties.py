"""Property tests: every paging mode returns every matching item exactly once, for any page size
and any set of paths (including names that differ only in case, which share an index range).

These drive the sandbox's WSGI app through werkzeug's test client (same handlers, no sockets),
so Hypothesis can build a fresh world per example."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from orch.sandbox.server import Sandbox

PID = "0d6f0000-0000-4000-8000-0000000000aa"
H = {"X-API-Key": "k", "Authorization": "Bearer t"}
SEGMENT = st.text(alphabet="aAbB_-.1", min_size=1, max_size=3).filter(lambda s: s not in (".", ".."))
PATHS = st.lists(st.lists(SEGMENT, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)),
                 min_size=0, max_size=25, unique=True)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _world(paths: list[str]) -> dict:
    # a path that is also a parent of another path becomes a folder: keep files only where no clash
    files = [p for p in paths if not any(q.startswith(p + "/") for q in paths)]
    return {"format_version": 1, "now": "2026-11-25T12:00:00Z", "ica": {"api_key": "k", "projects": [
        {"name": "p", "id": PID, "data": [{"path": p, "size": i} for i, p in enumerate(files)]}]},
        "basespace": {"access_token": "t", "projects": [
            {"Name": "bp", "Id": "1", "datasets": [{"Name": f"ds{i}", "DateCreated": "2026-01-01T00:00:00Z"}
                                                   for i in range(len(paths))]}]}}


def _client(paths):
    sb = Sandbox(_world(paths))
    return sb, Client(sb.app)


def _cursor_all(client, size: int, **params) -> list[str]:
    out, token, pages = [], None, 0
    while True:
        q = {"pageSize": str(size), **params, **({"pageToken": token} if token else {})}
        body = client.get(f"/ica/rest/api/projects/{PID}/data", query_string=q, headers=H).json
        out.extend(i["data"]["details"]["path"] for i in body["items"])
        assert "nextPageToken" in body
        token = body["nextPageToken"]
        pages += 1
        assert pages < 1000
        if not token:
            return out


def _offset_all(client, size: int, sort: str, **params) -> list[str]:
    out, offset = [], 0
    while True:
        q = {"pageSize": str(size), "pageOffset": str(offset), "sort": sort, **params}
        body = client.get(f"/ica/rest/api/projects/{PID}/data", query_string=q, headers=H).json
        assert body["nextPageToken"] == ""
        out.extend(i["data"]["details"]["path"] for i in body["items"])
        offset += size
        if offset >= body["totalItemCount"]:
            assert len(out) == body["totalItemCount"]
            return out


def _expected(sb) -> list[str]:
    return [it.path for it in sb.world.projects[0].data.items]


@SETTINGS
@given(paths=PATHS, size=st.integers(1, 7))
def test_cursor_paging_every_item_once(paths, size):
    sb, client = _client(paths)
    got = _cursor_all(client, size)
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(_expected(sb))


@SETTINGS
@given(paths=PATHS, size=st.integers(1, 7), sort=st.sampled_from(["name", "path desc", "fileSizeInBytes, name desc",
                                                                    "timeCreated"]))
def test_offset_paging_every_item_once(paths, size, sort):
    sb, client = _client(paths)
    got = _offset_all(client, size, sort)
    assert sorted(got) == sorted(_expected(sb))


@SETTINGS
@given(paths=PATHS, size=st.integers(1, 5), data=st.data())
def test_cursor_paging_with_prefix_and_parent_filters(paths, size, data):
    sb, client = _client(paths)
    everything = _expected(sb)
    folders = sorted(p for p in everything if p.endswith("/")) + ["/"]
    folder = data.draw(st.sampled_from(folders))
    got = _cursor_all(client, size, parentFolderPath=folder)
    want = [p for p in everything if p != folder and p.startswith(folder) and "/" not in p[len(folder):].rstrip("/")]
    assert sorted(got) == sorted(want) and len(got) == len(set(got))
    prefix = data.draw(st.sampled_from(folders)).upper()
    got = _cursor_all(client, size, filePath=prefix)
    assert sorted(got) == sorted(p for p in everything if p.lower().startswith(prefix.lower()))


@SETTINGS
@given(n=st.integers(0, 30), limit=st.integers(1, 8), sort_dir=st.sampled_from(["Asc", "Desc"]))
def test_basespace_offset_limit_every_item_once(n, limit, sort_dir):
    sb, client = _client([f"/f{i}" for i in range(n)])
    got, offset = [], 0
    while True:
        body = client.get("/basespace/v2/datasets", headers=H,
                          query_string={"Offset": offset, "Limit": limit, "SortBy": "Name", "SortDir": sort_dir}).json
        got.extend(d["Id"] for d in body["Items"])
        assert body["Paging"]["DisplayedCount"] == len(body["Items"])
        offset += limit
        if offset >= body["Paging"]["TotalCount"]:
            break
    assert sorted(got) == sorted(sb.world.datasets_by_id) and len(got) == len(set(got))


@SETTINGS
@given(paths=PATHS, data=st.data())
def test_full_path_match_is_case_insensitive_and_exact(paths, data):
    sb, client = _client(paths)
    everything = _expected(sb)
    if not everything:
        return
    target = data.draw(st.sampled_from(everything))
    asked = data.draw(st.sampled_from([target, target.upper(), target.lower()]))
    got = _cursor_all(client, 1, filePath=asked, filePathMatchMode="FULL_CASE_INSENSITIVE")
    assert sorted(got) == sorted(p for p in everything if p.lower() == asked.lower())


@SETTINGS
@given(paths=PATHS, size=st.integers(1, 4), extra=st.lists(SEGMENT, max_size=6, unique=True))
def test_cursor_paging_survives_files_created_between_pages(paths, size, extra):
    """Cursor paging guarantees complete, unique results: files created while paging never
    cause repeats, and every file present from start to end is returned."""
    sb, client = _client(paths)
    before = set(_expected(sb))
    out, token, created = [], None, list(extra)
    while True:
        q = {"pageSize": str(size), **({"pageToken": token} if token else {})}
        body = client.get(f"/ica/rest/api/projects/{PID}/data", query_string=q, headers=H).json
        out.extend(i["data"]["details"]["path"] for i in body["items"])
        token = body["nextPageToken"]
        if created:
            name = created.pop()
            r = client.post(f"/ica/rest/api/projects/{PID}/data:createFile", headers=H,
                            json={"name": name + ".new", "folderPath": "/"})
            assert r.status_code in (201, 409)
        if not token:
            break
    assert len(out) == len(set(out))
    assert before <= set(out)
