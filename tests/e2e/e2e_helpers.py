"""A world with every action kind, and a thin driver of the real CLI against a running sandbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from typer.testing import CliRunner

from orch.cli import app
from orch.timeutil import format_ts, parse_ts

REPO = Path(__file__).resolve().parents[2]
MGI = str(REPO / "policies" / "mgi.yaml")
NOW = parse_ts("2026-11-25T12:00:00Z")
KEY, TOKEN = "e2e-key", "e2e-token"
SRC_ID, DST_ID = "0d6f0000-0000-4000-8000-0000000000a1", "0d6f0000-0000-4000-8000-0000000000a2"
ODD_NAME = 'M-3 "odd",name_S3_L001_R1_001.fastq.gz'


def ago(days: float) -> str:
    return format_ts(NOW - timedelta(days=days))


def _analysis(aid: str, user_ref: str, age: float, status: str = "SUCCEEDED") -> dict[str, Any]:
    return {"id": aid, "reference": f"{user_ref}-BclConvert_v4_1_23-{aid[:8]}", "userReference": user_ref,
            "pipeline": "BclConvert_v4_1_23_patch1", "status": status, "timeCreated": ago(age),
            "startDate": ago(age), "output": f"/ilmn-analyses/{user_ref}/output/"}


def every_kind_world() -> dict[str, Any]:
    """Hand-off (3 MGI files, one with an odd name), ICA delete/archive/unarchive, BaseSpace
    delete/restore/archive of datasets and runs, and a trash to empty."""
    bss = lambda name: json.dumps({"Projects": {"OutputProject": {"Name": name}}})  # noqa: E731
    data = [
        {"path": "/ilmn-analyses/RUN_A/output/Samples/M-1_S1_L001_R1_001.fastq.gz", "id": "fil.a1", "timeCreated": ago(5)},
        {"path": "/ilmn-analyses/RUN_A/output/Samples/M-1_S1_L001_R2_001.fastq.gz", "id": "fil.a2", "timeCreated": ago(5)},
        {"path": f"/ilmn-analyses/RUN_A/output/Samples/{ODD_NAME}", "id": "fil.a3", "timeCreated": ago(5)},
        {"path": "/ilmn-analyses/RUN_A/output/Samples/X-2_S2_L001_R1_001.fastq.gz", "id": "fil.a4", "timeCreated": ago(5)},
        {"path": "/ilmn-analyses/RUN_A/output/Samples/Undetermined_S0_L001_R1_001.fastq.gz", "timeCreated": ago(5)},
        {"path": "/ilmn-analyses/RUN_A/output/Reports/bsshoutput.json", "timeCreated": ago(5), "content": bss("bs_new")},
        {"path": "/ilmn-analyses/RUN_B/output/x.txt", "timeCreated": ago(100)},
        {"path": "/ilmn-analyses/RUN_C/output/x.txt", "timeCreated": ago(70)},
        {"path": "/ilmn-analyses/RUN_D/output/", "id": "fol.d", "status": "ARCHIVED", "timeCreated": ago(120)},
        {"path": "/ilmn-analyses/RUN_D/output/x.txt", "status": "ARCHIVED", "timeCreated": ago(120)},
        {"path": "/ilmn-analyses/20260817_LH00619_0005_B22XYZ12K3/output/Reports/bsshoutput.json",
         "timeCreated": ago(100), "content": bss("bs_old")},
        {"path": "/ilmn-analyses/20260916_LH00619_0009_A22AB3CDE4/output/Reports/bsshoutput.json",
         "timeCreated": ago(70), "content": bss("bs_mid")},
    ]
    analyses = [
        _analysis("a0000000-0000-4000-8000-00000000000a", "RUN_A", 5),
        _analysis("b0000000-0000-4000-8000-00000000000b", "RUN_B", 100, status="FAILED"),
        _analysis("c0000000-0000-4000-8000-00000000000c", "RUN_C", 70),
        _analysis("d0000000-0000-4000-8000-00000000000d", "RUN_D", 120),
        _analysis("e0000000-0000-4000-8000-00000000000e", "20260817_LH00619_0005_B22XYZ12K3", 100),
        _analysis("f0000000-0000-4000-8000-00000000000f", "20260916_LH00619_0009_A22AB3CDE4", 70),
    ]
    return {
        "format_version": 1, "now": format_ts(NOW),
        "ica": {"api_key": KEY, "projects": [
            {"name": "ken_debug", "id": SRC_ID, "data": data, "analyses": analyses},
            {"name": "Ken_demos", "id": DST_ID, "data": []}]},
        "basespace": {"access_token": TOKEN, "projects": [
            {"Name": "bs_new", "Id": "1001", "datasets": [{"Id": "ds.new", "Name": "M-1_L001", "DateCreated": ago(5)}]},
            {"Name": "bs_old", "Id": "1002", "datasets": [
                {"Id": "ds.old", "Name": "M-5_L001", "DateCreated": ago(95)},
                {"Id": "ds.oldarch", "Name": "M-6_L001", "DateCreated": ago(95), "IsArchived": True},
                {"Id": "ds.oldyoung", "Name": "M-7_L001", "DateCreated": ago(80)}]},
            {"Name": "bs_mid", "Id": "1003", "datasets": [{"Id": "ds.mid", "Name": "M-8_L001", "DateCreated": ago(69)}]},
            {"Name": "bs_unrelated", "Id": "1004", "datasets": [{"Id": "ds.x", "Name": "X", "DateCreated": ago(300)}]}],
            "runs": [
                {"Id": "2001", "Name": "20260817_LH00619_0005_B22XYZ12K3", "DateCreated": ago(100), "Status": "Complete"},
                {"Id": "2002", "Name": "20260916_LH00619_0009_A22AB3CDE4", "DateCreated": ago(71), "Status": "Complete"},
                {"Id": "2003", "Name": "20250101_LH00001_0001_AXXXXXXXXX", "DateCreated": ago(300), "Status": "Complete"}]},
        "timing": {"archive": "1h", "unarchive": "6h", "delete": "10m", "link_batch": "0s"},
    }


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


class Cli:
    """``orch`` in process against ``sandbox``; the ledger lives in ``workdir``."""

    def __init__(self, sandbox: Any, workdir: Path, now: datetime = NOW):
        self.sandbox = sandbox
        self.workdir = workdir
        self.now = now
        self.runner = CliRunner()
        self.env = {"ICA_API_KEY": KEY, "BASESPACE_ACCESS_TOKEN": TOKEN, "ICA_API_KEY_FILE": None,
                    "BASESPACE_CONFIG": None, "ORCH_STATE": None, "ORCH_ICA_URL": None, "ORCH_BASESPACE_URL": None,
                    "AWS_ENDPOINT_URL_S3": None}

    def common(self, *vars: str, now: datetime | None = None) -> list[str]:
        args = ["--state", str(self.workdir / "state.db"), "--ica-url", self.sandbox.ica_url,
                "--basespace-url", self.sandbox.basespace_url, "--s3-endpoint-url", self.sandbox.s3_endpoint_url,
                "--now", format_ts(now or self.now)]
        for v in vars:
            args += ["--var", v]
        return args

    def run(self, *args: str, input: str | None = None) -> Run:
        res = self.runner.invoke(app, [str(a) for a in args], env=self.env, input=input)
        return Run(res.exit_code, res.stdout, res.stderr)

    def plan(self, *vars: str, policy: str = MGI, extra: tuple[str, ...] = (), now: datetime | None = None) -> Run:
        return self.run("plan", "-p", policy, *self.common(*vars, now=now), "--format", "json", *extra)

    def apply(self, *vars: str, policy: str = MGI, now: datetime | None = None) -> Run:
        return self.run("apply", "-p", policy, *self.common(*vars, now=now), "--yes")

    def apply_file(self, plan_file: Path, now: datetime | None = None) -> Run:
        return self.run("apply", str(plan_file), *self.common(now=now))

    def state(self) -> dict[str, Any]:
        return requests.get(self.sandbox.control_url + "/state", timeout=10).json()

    def advance(self, duration: str) -> None:
        r = requests.post(self.sandbox.control_url + "/clock", json={"advance": duration}, timeout=10)
        r.raise_for_status()
        self.now = parse_ts(r.json()["now"]) if "now" in r.json() else self.now + _td(duration)


def _td(duration: str) -> timedelta:
    from orch.timeutil import parse_duration

    return parse_duration(duration)


def data_of(state: dict[str, Any], project: str) -> dict[str, dict[str, Any]]:
    p = next(p for p in state["ica"]["projects"] if p["name"] == project)
    return {d["path"]: d for d in p["data"]}


def datasets_of(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["Id"]: d for p in state["basespace"]["projects"] for d in p["datasets"]}


def runs_of(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Id"]: r for r in state["basespace"]["runs"]}


def swap_world(sandbox: Any, world: dict[str, Any]) -> None:
    """Replace a running sandbox's state with a new world (property tests: saves a server start per
    example); link batches finish at once so apply need not wait."""
    from orch.sandbox.clock import SandboxClock
    from orch.sandbox.world import load_world

    world.setdefault("timing", {})["link_batch"] = "0s"
    with sandbox.lock:
        sandbox.world = load_world(world)
        sandbox.clock = SandboxClock(sandbox.world.now)


def sandbox_clients(sandbox: Any):
    """orch's own ICA and BaseSpace connectors on a running sandbox (fast link polling)."""
    from orch.connectors.basespace import BasespaceClient
    from orch.connectors.ica import IcaClient

    return (IcaClient(sandbox.ica_url, sandbox.world.api_key, s3_endpoint_url=sandbox.s3_endpoint_url,
                      link_poll=(0.02, 0.2)),
            BasespaceClient(sandbox.basespace_url, sandbox.world.access_token))

