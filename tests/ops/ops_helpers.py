"""Shared by the tests of orch/ops: a sandbox world with one hand-off, and watch settings for it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import requests

from orch.settings import RunSettings

REPO = Path(__file__).resolve().parents[2]
MGI = str(REPO / "policies" / "mgi.yaml")
SRC, DST = "ken_debug", "Ken_demos"


def handoff_world(small_world: dict[str, Any]) -> dict[str, Any]:
    """SMALL_WORLD with link batches that finish at once (a cycle needs no link polling)."""
    world = copy.deepcopy(small_world)
    world["timing"]["link_batch"] = "0s"
    return world


def watch_settings(sandbox: Any, tmp_path: Path, **kw: Any) -> RunSettings:
    """Settings of ``orch watch -p policies/mgi.yaml`` against a running sandbox (keys from the env)."""
    base = dict(policy_paths=[MGI], ica_url=sandbox.ica_url, basespace_url=sandbox.basespace_url,
                s3_endpoint_url=sandbox.s3_endpoint_url, state=str(tmp_path / "state.db"), yes=True,
                now=sandbox.world.now)
    base.update(kw)
    return RunSettings(**base)


def keys_env(monkeypatch, sandbox: Any, ica_key: str | None = None) -> None:
    monkeypatch.setenv("ICA_API_KEY", ica_key or sandbox.world.api_key)
    monkeypatch.setenv("BASESPACE_ACCESS_TOKEN", sandbox.world.access_token)
    for name in ("ICA_API_KEY_FILE", "BASESPACE_CONFIG", "ORCH_STATE", "ORCH_ICA_URL", "ORCH_BASESPACE_URL"):
        monkeypatch.delenv(name, raising=False)


def project_data(sandbox: Any, name: str) -> dict[str, dict[str, Any]]:
    state = requests.get(sandbox.control_url + "/state", timeout=10).json()
    project = next(p for p in state["ica"]["projects"] if p["name"] == name)
    return {d["path"]: d for d in project["data"]}


class watchdog:
    """``with watchdog(stop, 90):`` ends a watch that waits for something that never comes (a test
    failure, not a test that hangs for the length of ``--every``)."""

    def __init__(self, stop: Any, seconds: float = 90.0):
        import threading

        self.timer = threading.Timer(seconds, stop.request, args=("watchdog",))
        self.timer.daemon = True

    def __enter__(self) -> "watchdog":
        self.timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.timer.cancel()
