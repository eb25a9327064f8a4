"""BaseSpace deletes without guessing (issue 9 item 2): the dataset delete route is unverified, so no
restore is paid for a delete until a delete by it has worked on the account, and a server that does not
know the route stops BaseSpace dataset deletes at once, with no restore ever requested for them."""

from __future__ import annotations

import pytest
import requests

from e2e_helpers import Cli, ago, datasets_of, every_kind_world

ROUTE = "DELETE /v2/datasets/{id}"


def on(plan: dict, rid: str) -> list[tuple[str, str | None]]:
    return [(a["action"], a["params"].get("then")) for a in plan["actions"] if a["resource"]["id"] == rid]


@pytest.fixture
def unconfirmed(monkeypatch, tmp_path):
    monkeypatch.delenv("ORCH_BASESPACE_CONFIRMED_ROUTES", raising=False)  # a real account: nothing declared
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_no_restore_for_delete_until_a_delete_by_the_route_worked(make_sandbox, unconfirmed):
    cli = Cli(make_sandbox(every_kind_world()), unconfirmed)
    first = cli.plan()
    assert first.code == 0, first.stderr
    assert on(first.json(), "ds.oldarch") == [] and on(first.json(), "ds.old") == [("delete", None)]
    assert "M-6_L001 not planned: delete route unconfirmed: not restored" in first.stderr
    assert cli.apply().code == 0
    assert "ds.old" not in datasets_of(cli.state())
    # the delete worked: the ledger confirms the route for this account, the restore-for-delete comes now
    again = cli.plan()
    assert on(again.json(), "ds.oldarch") == [("unarchive", "delete")]
    assert "delete route unconfirmed" not in again.stderr


def test_a_refused_delete_route_fails_once_and_no_restore_is_ever_requested(make_sandbox, unconfirmed):
    world = every_kind_world()
    world["basespace"]["projects"][1]["datasets"].append({"Id": "ds.old2", "Name": "M-9_L001", "DateCreated": ago(95)})
    world["sandbox"] = {"refuse_routes": [ROUTE]}
    sb = make_sandbox(world)
    cli = Cli(sb, unconfirmed)
    applied = cli.apply()
    assert applied.code != 0
    out = applied.stdout + applied.stderr
    assert out.count("the server does not know this route") == 1  # one clear error
    assert "not attempted" in out  # the second dataset delete was not sent
    by_route = requests.get(sb.control_url + "/requests", timeout=5).json()["by_route"]
    assert by_route.get(f"{ROUTE}") == 1 and "POST /v2/restore" not in by_route
    assert {"ds.old", "ds.old2", "ds.oldarch"} <= set(datasets_of(cli.state()))
    # the ledger knows the route is unavailable: later plans delete no dataset by it and restore none
    later = cli.plan()
    assert on(later.json(), "ds.old") == [] and on(later.json(), "ds.oldarch") == []
    assert f"the delete route {ROUTE} is unavailable on this account" in later.stderr
    assert "2001" not in {r["Id"] for r in cli.state()["basespace"]["runs"]}  # runs have their own route: deleted
