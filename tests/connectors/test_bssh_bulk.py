"""BaseSpace archive/restore batches: a refused batch is re-read item by item (issue 9 item 3)."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import requests

from connector_helpers import FAST, bs_client, counts, reset_counts
from orch.sandbox.server import Sandbox
from test_lost_response import slow_first


IDS = [f"ds.{0xb000 + i:032x}" for i in range(250)]


def _world(small_world, mark=None, at=137):
    w = copy.deepcopy(small_world)
    w["basespace"]["projects"][1]["datasets"] = [
        {"Id": ident, "Name": f"S{i:03d}", "DateCreated": "2026-06-01T00:00:00Z", **((mark or {}) if i == at else {})}
        for i, ident in enumerate(IDS)]
    return w


def test_a_retried_archive_whose_first_answer_was_lost_reports_every_item_done(small_world):
    sb = Sandbox(_world(small_world))
    slow_first(sb, "/v2/archive")
    sb.start()
    try:
        bs = bs_client(sb, http=dataclasses.replace(FAST, read_timeout=0.5))
        ids = IDS
        results = bs.archive(dataset_ids=ids)
        assert [r.id for r in results] == ids and all(r.ok for r in results)
        assert {r.message for r in results} == {"already archived"}  # the repeat was refused: re-read, in effect
        assert counts(sb)["by_route"]["POST /v2/archive"] == 2
    finally:
        sb.stop()


@pytest.mark.parametrize("mark, reason", [({"IsFileDataDeleted": True}, "files are deleted"),
                                          ({"shared": True}, "shared")])
def test_one_ineligible_item_in_a_batch_of_250_fails_alone(make_sandbox, small_world, mark, reason):
    sb = make_sandbox(_world(small_world, mark))
    bs = bs_client(sb)
    ids = IDS
    reset_counts(sb)
    results = {r.id: r for r in bs.archive(dataset_ids=ids)}
    bad = ids[137]
    assert not results[bad].ok and reason in results[bad].message
    assert all(r.ok and r.message == "archive requested" for i, r in results.items() if i != bad)
    dump = requests.get(sb.control_url + "/state", timeout=5).json()["basespace"]["projects"][1]["datasets"]
    assert sum(d["IsArchived"] for d in dump) == 249
    posts = counts(sb)["by_route"]["POST /v2/archive"]
    assert posts <= 2 * 8 + 1  # bisection: a few requests, never one per item


def test_restore_while_archiving_fails_per_item_with_the_reason(sandbox):
    bs = bs_client(sandbox)
    ds1 = "ds.00000000000000000000000000000001"
    assert [r.ok for r in bs.archive(dataset_ids=[ds1])] == [True]
    assert bs.get_dataset(ds1).is_archived  # true as soon as the request is accepted
    (r,) = bs.restore(dataset_ids=[ds1])
    assert not r.ok and "until archiving is complete" in r.message
