"""Fixtures for the MGI pack's acceptance tests.

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
