"""A POST the server handled but whose response arrived too late: urllib3 re-sends it (read errors are
retried). The repeat of an archive or delete is refused (the data is ARCHIVING/DELETING); the connector
sees the request already in effect and reports success (found by review: it reported a failure).
createFile and dataLinkingBatch repeats are handled too."""

from __future__ import annotations

import copy
import dataclasses
import threading
import time

import pytest

from connector_helpers import FAST, SOURCE, DEST, ica_client, state
from orch.sandbox.server import Sandbox

SLOW = dataclasses.replace(FAST, read_timeout=0.5)


def slow_first(sb, needle, delay=1.0):
    """The first request whose path contains ``needle`` is handled at once, its response held ``delay`` s."""
    inner = sb._served
    done = {"n": 0}
    lock = threading.Lock()

    def app(environ, start_response):
        body = inner(environ, start_response)
        if needle in environ.get("PATH_INFO", "") and environ["REQUEST_METHOD"] == "POST":
            with lock:
                first = done["n"] == 0
                done["n"] += 1
            if first:
                body = list(body)  # handled now
                time.sleep(delay)
        return body

    sb._served = app


@pytest.fixture
def started():
    sbs = []

    def make(world, needle):
        sb = Sandbox(copy.deepcopy(world))
        slow_first(sb, needle)
        sb.start()
        sbs.append(sb)
        return sb

    yield make
    for sb in sbs:
        sb.stop()


@pytest.mark.parametrize("verb", ["archive", "delete"])
def test_a_repeated_lifecycle_post_that_was_applied_is_a_success(started, small_world, verb):
    sb = started(small_world, ":" + verb)
    ica = ica_client(sb, http=SLOW)
    fid = "fil.a0000000000000000000000000000001"
    err = None
    try:
        getattr(ica, verb)(SOURCE, fid)
    except Exception as exc:  # noqa
        err = exc
    st = state(sb)
    items = [d for p in st["ica"]["projects"] if p["id"] == SOURCE for d in p["data"] if d.get("id") == fid]
    status = items[0].get("status") if items else "gone"
    assert status == {"archive": "ARCHIVING", "delete": "DELETING"}[verb] or (verb == "delete" and status == "gone")
    assert err is None, f"{verb} was accepted by the platform (data now {status}) but orch reports: {err}"


def test_create_file_repeated_post_is_handled(started, small_world):
    sb = started(small_world, ":createFile")
    ica = ica_client(sb, http=SLOW)
    d = ica.create_file(DEST, "/fastq_manifests/", "x.csv")
    ica.upload_bytes(DEST, d.id, b"a,b\n")
    assert d.status == "PARTIAL"


def test_link_batch_repeated_post_is_handled(started, small_world):
    sb = started(small_world, "/dataLinkingBatch")
    ica = ica_client(sb, http=SLOW)
    res = ica.link(DEST, ["fil.a0000000000000000000000000000001"])
    assert all(r.ok for r in res)
