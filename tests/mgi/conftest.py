"""Fixtures for the MGI pack's acceptance tests (contracts section 4, issue 6 items 2 and 3).

Where each rule is tested, always through the real CLI against the sandbox:
- test_handoff.py: rule 1 (name cases, already linked, existing manifest, no MGI file, pipelines and
  statuses, ledger and legacy import, handoff_max_age_days boundary, manifest bytes, saved plans,
  failed links, more than one link batch);
- test_lifecycle_ica.py: rule 2, ICA-managed (exact window boundaries, --now, final statuses, every
  output-folder status, BaseSpace-managed folders left alone);
- test_lifecycle_basespace.py: rule 2, BaseSpace-managed datasets; rule 3 runs (bssh_runs); empty_trash;
  unreadable bsshoutput.json; stale saved plans;
- test_pack.py: two-phase delete across runs, idempotency, --detailed-exitcode, retargeting, determinism;
- test_generated.py: generated worlds against an independent reading of section 4 (oracle.py).

``make_orch(world)``: a sandbox the test starts over a world dict, the CLI pointed at it.
``make_orch_any(world)``: the same test once that way and once with the CLI's own
``--sandbox --world`` mode (used by the tests that span several commands).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.mgi.harness import InProcessOrch, Orch, ServedOrch
from tests.mgi.worlds import NOW


@pytest.fixture
def make_orch(make_sandbox, tmp_path, monkeypatch) -> Callable[[dict[str, Any]], Orch]:
    monkeypatch.chdir(tmp_path)

    def make(world: dict[str, Any]) -> Orch:
        return ServedOrch(make_sandbox(world), tmp_path, now=NOW)

    return make


@pytest.fixture(params=["served", "in-process"])
def make_orch_any(request, make_sandbox, tmp_path, monkeypatch) -> Callable[[dict[str, Any]], Orch]:
    monkeypatch.chdir(tmp_path)

    def make(world: dict[str, Any]) -> Orch:
        if request.param == "served":
            return ServedOrch(make_sandbox(world), tmp_path, now=NOW)
        return InProcessOrch(world, tmp_path, now=NOW)

    return make
