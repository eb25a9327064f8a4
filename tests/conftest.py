"""Shared fixtures: a running sandbox (real HTTP on 127.0.0.1, random port) over a small world."""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

import pytest
from hypothesis import settings

# CI (.ci/run sets HYPOTHESIS_PROFILE=ci) replays the same examples every run, so a landing never
# depends on luck; developers' runs stay random and keep finding new cases (add them as @example).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(__import__("os").environ.get("HYPOTHESIS_PROFILE", "default"))

@pytest.fixture(autouse=True)
def _test_accounts_confirm_the_dataset_delete_route(monkeypatch):
    """The sandbox serves the unverified BaseSpace dataset delete route, so test accounts declare it
    confirmed (as a deployment may after checking it); tests of the guard itself remove this."""
    monkeypatch.setenv("ORCH_BASESPACE_CONFIRMED_ROUTES", "DELETE /v2/datasets/{id}")


SMALL_WORLD: dict[str, Any] = {
    "format_version": 1,
    "now": "2026-11-25T12:00:00Z",
    "ica": {
        "api_key": "test-key",
        "projects": [
            {
                "name": "ken_debug",
                "id": "0d6f0000-0000-4000-8000-000000000001",
                "data": [
                    {"path": "/ilmn-analyses/RUN_A/output/Samples/Lane_1/M-1_S1_L001_R1_001.fastq.gz",
                     "id": "fil.a0000000000000000000000000000001", "timeCreated": "2026-11-20T10:00:00Z", "size": 1048576},
                    {"path": "/ilmn-analyses/RUN_A/output/Samples/Lane_1/M-1_S1_L001_R2_001.fastq.gz",
                     "id": "fil.a0000000000000000000000000000002", "timeCreated": "2026-11-20T10:00:00Z", "size": 1048576},
                    {"path": "/ilmn-analyses/RUN_A/output/Samples/Lane_1/X-2_S2_L001_R1_001.fastq.gz",
                     "id": "fil.a0000000000000000000000000000003", "timeCreated": "2026-11-20T10:00:00Z", "size": 2048},
                    {"path": "/ilmn-analyses/RUN_A/output/Samples/Lane_1/Undetermined_S0_L001_R1_001.fastq.gz",
                     "timeCreated": "2026-11-20T10:00:00Z", "size": 4096},
                    {"path": "/ilmn-analyses/RUN_A/output/Reports/bsshoutput.json",
                     "timeCreated": "2026-11-20T10:00:00Z",
                     "content": '{"Projects": {"OutputProject": {"Name": "bs_proj_A"}}}'},
                    {"path": "/ilmn-analyses/RUN_B/output/", "status": "ARCHIVED", "timeCreated": "2026-07-01T10:00:00Z"},
                    {"path": "/ilmn-analyses/RUN_B/output/Samples/M-9_S1_L001_R1_001.fastq.gz", "status": "ARCHIVED",
                     "timeCreated": "2026-07-01T10:00:00Z", "size": 100},
                    {"path": "/scratch/notes.txt", "content": "hello sandbox\n", "timeCreated": "2026-10-01T00:00:00Z"},
                ],
                "analyses": [
                    {"id": "5c1e0000-0000-4000-8000-00000000000a", "reference": "RUN_A-BclConvert_v4_1_23-5c1e",
                     "userReference": "RUN_A", "pipeline": "BclConvert_v4_1_23_patch1", "status": "SUCCEEDED",
                     "timeCreated": "2026-11-20T09:00:00Z", "startDate": "2026-11-20T09:00:00Z",
                     "output": "/ilmn-analyses/RUN_A/output/"},
                    {"id": "5c1e0000-0000-4000-8000-00000000000b", "reference": "RUN_B-BclConvert_v4_1_23-5c1f",
                     "userReference": "RUN_B", "pipeline": "BclConvert_v4_1_23_patch1", "status": "FAILEDFINAL",
                     "timeCreated": "2026-07-01T09:00:00Z", "startDate": "2026-07-01T09:00:00Z",
                     "output": "/ilmn-analyses/RUN_B/output/"},
                    {"userReference": "dragen-run", "pipeline": "DRAGEN_Germline", "status": "INPROGRESS"},
                ],
            },
            {"name": "Ken_demos", "id": "0d6f0000-0000-4000-8000-000000000002", "data": []},
        ],
    },
    "basespace": {
        "access_token": "test-token",
        "projects": [
            {"Name": "bs_proj_A", "Id": "1001", "DateCreated": "2026-01-01T00:00:00Z",
             "datasets": [
                 {"Id": "ds.00000000000000000000000000000001", "Name": "M-1_L001",
                  "DateCreated": "2026-08-01T10:00:00Z", "TotalSize": 1000},
                 {"Id": "ds.00000000000000000000000000000002", "Name": "M-2_L001",
                  "DateCreated": "2026-08-02T10:00:00Z", "IsArchived": True, "TotalSize": 2000},
                 {"Name": "M-3_L001", "DateCreated": "2026-11-01T10:00:00Z"},
             ]},
            {"Name": "bs_proj_B", "Id": "1002", "datasets": []},
        ],
        "runs": [
            {"Id": "2001", "Name": "20260801_LH00619_0013_B22CCFJLT4", "ExperimentName": "exp-13",
             "DateCreated": "2026-08-01T08:00:00Z", "Status": "Complete"},
            {"Id": "2002", "Name": "20261120_LH00619_0020_B22DDFJLT4", "ExperimentName": "exp-20",
             "DateCreated": "2026-11-20T08:00:00Z", "Status": "Running"},
        ],
    },
    "timing": {"archive": "1h", "unarchive": "6h", "delete": "10m", "link_batch": "5s"},
}


@pytest.fixture
def small_world() -> dict[str, Any]:
    """A fresh copy of the small world the ``sandbox`` fixture serves (mutate freely)."""
    return copy.deepcopy(SMALL_WORLD)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Any]]:
    """Factory: ``make_sandbox(world_dict, latency_ms=..., error_rate=..., rate_limit=..., seed=...)``
    starts a sandbox (stopped at the end of the test)."""
    from orch.sandbox.server import Sandbox

    started: list[Sandbox] = []

    def make(world: Any = None, **faults: Any) -> Sandbox:
        sb = Sandbox(copy.deepcopy(SMALL_WORLD) if world is None else world, **faults)
        sb.start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox):
    """A running sandbox over SMALL_WORLD: ``.ica_url``, ``.basespace_url``, ``.s3_endpoint_url``,
    ``.control_url``; ICA key ``test-key``, BaseSpace token ``test-token``."""
    return make_sandbox()
