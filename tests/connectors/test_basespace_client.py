"""BasespaceClient against the sandbox over real HTTP."""

from __future__ import annotations

import pytest
import requests

from connector_helpers import bs_client, counts, reset_counts, state
from orch.errors import AuthError, NotFound

DS1, DS2 = "ds.00000000000000000000000000000001", "ds.00000000000000000000000000000002"


def test_projects_by_name_from_one_v1pre3_listing(sandbox, bs):
    reset_counts(sandbox)
    assert [p.name for p in bs.list_projects()] == ["bs_proj_A", "bs_proj_B"]
    found = bs.projects_by_name(["bs_proj_A", "missing"])
    assert [p.id for p in found["bs_proj_A"]] == ["1001"] and found["missing"] == []
    assert counts(sandbox)["by_route"] == {"GET /v1pre3/users/current/projects": 1}


def test_datasets_with_archived_filter(bs):
    every = list(bs.list_datasets("1001"))
    assert len(every) == 3 and all(d.project_id == "1001" for d in every)
    assert [d.id for d in bs.list_datasets("1001", is_archived=True)] == [DS2]
    assert DS2 not in {d.id for d in bs.list_datasets("1001", is_archived=False)}
    ds = bs.get_dataset(DS1)
    assert ds.name == "M-1_L001" and ds.date_created.isoformat() == "2026-08-01T10:00:00+00:00"
    assert not ds.is_archived and ds.attr("TotalSize") == 1000
    with pytest.raises(NotFound):
        bs.get_dataset("ds.ffffffffffffffffffffffffffffffff")


def test_runs_with_status_filter(bs):
    assert [r.name for r in bs.list_runs()] == ["20260801_LH00619_0013_B22CCFJLT4", "20261120_LH00619_0020_B22DDFJLT4"]
    assert [r.id for r in bs.list_runs(["Complete"])] == ["2001"]
    run = bs.get_run("2002")
    assert run.status == "Running" and run.experiment_name == "exp-20"


def test_paging_and_archive_restore_in_batches_of_250(make_sandbox, small_world):
    small_world["basespace"]["projects"][1]["datasets"] = [
        {"Name": f"S{i:03d}", "DateCreated": "2026-06-01T00:00:00Z"} for i in range(300)]
    sb = make_sandbox(small_world)
    bs = bs_client(sb, page_size=64)
    reset_counts(sb)
    ids = [d.id for d in bs.list_datasets("1002")]
    assert len(ids) == len(set(ids)) == 300
    assert counts(sb)["by_route"] == {"GET /v2/projects/{id}/datasets": 5}  # ceil(300 / 64)
    reset_counts(sb)
    bs.archive(dataset_ids=ids, run_ids=["2001"])
    assert counts(sb)["by_route"] == {"POST /v2/archive": 2}  # 301 ids, at most 250 per request
    requests.post(sb.control_url + "/clock", json={"advance": "2h"}, timeout=5).raise_for_status()
    bs.clear_cache()
    assert all(d.is_archived for d in bs.list_datasets("1002"))
    assert bs.get_run("2001").is_archived
    reset_counts(sb)
    bs.restore(dataset_ids=ids[:10])
    assert counts(sb)["by_route"] == {"POST /v2/restore": 1}


def test_delete_moves_to_trash_and_empty_trash(sandbox, bs):
    bs.delete_dataset(DS1)
    bs.delete_run("2001")
    assert DS1 not in {d.id for d in bs.list_datasets("1001")}
    assert "2001" not in {r.id for r in bs.list_runs()}
    assert len(state(sandbox)["basespace"].get("trash") or []) == 2
    bs.empty_trash()
    assert not state(sandbox)["basespace"].get("trash")


def test_check_scopes_names_missing_scopes(make_sandbox, small_world, bs):
    bs.check_scopes()  # the default sandbox token has all four
    small_world["basespace"]["scopes"] = ["READ GLOBAL", "BROWSE GLOBAL"]
    sb = make_sandbox(small_world)
    with pytest.raises(AuthError) as exc:
        bs_client(sb).check_scopes()
    msg = str(exc.value)
    assert "MOVETOTRASH GLOBAL, EMPTY TRASH" in msg and "READ GLOBAL," not in msg.split("scope(s)")[1].split(";")[0]
    assert "test-token" not in msg


def test_wrong_token_is_a_clear_auth_error(sandbox):
    with pytest.raises(AuthError) as exc:
        list(bs_client(sandbox, token="wrong-token-1234").list_projects())
    assert str(exc.value).startswith("BaseSpace GET /v1pre3/users/current/projects failed: HTTP 401")
    assert "wrong-token-1234" not in str(exc.value)
