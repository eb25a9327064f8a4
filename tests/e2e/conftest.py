"""Fixtures shared by the end-to-end property tests."""

from __future__ import annotations

import pytest

from orch.sandbox.generate import generate_world
from orch.sandbox.server import Sandbox


@pytest.fixture(scope="module")
def sb():
    """One sandbox per test module over a small generated world (tests swap in their own worlds)."""
    sandbox = Sandbox(generate_world(analyses=2, files_per_analysis=2, seed=1))
    sandbox.start()
    yield sandbox
    sandbox.stop()
