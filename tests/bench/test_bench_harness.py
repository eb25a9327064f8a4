"""Smoke test of the ``make bench`` harness on a tiny world (seconds; no timed assertions)."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import lower_bound as lb  # noqa: E402
from bench_server import BCL, facts  # noqa: E402
from old_script import OldScript  # noqa: E402
from runner import POLICY, Server, run_orch  # noqa: E402

from orch.sandbox.generate import generate_world  # noqa: E402
from orch.sandbox.server import Sandbox  # noqa: E402
from orch.timeutil import format_ts  # noqa: E402


def test_old_script_replay_links_each_new_analysis_once_and_deletes_one_by_one():
    world = generate_world(analyses=8, files_per_analysis=30, seed=3)
    source = world["ica"]["projects"][0]
    mgi_outputs = {d["path"].split("/output/")[0] for d in source["data"]
                   if re.match(r"M.*\.fastq\.gz$", d["path"].rsplit("/", 1)[1]) and "/output/" in d["path"]}
    new = [a for a in source["analyses"] if BCL.search(a["pipeline"]) and a["status"] == "SUCCEEDED"
           and a["output"].split("/output/")[0] in mgi_outputs]
    assert new, "the world must hold analyses to hand off"
    manifests = {d["path"] for d in world["ica"]["projects"][1]["data"]}
    fresh = [a for a in new if f"/fastq_manifests/{a['reference']}.download_manifest.csv" not in manifests]
    with Sandbox(world) as sb:
        clock = lambda d: sb.clock.advance(timedelta(seconds=int(d.rstrip("s"))))  # noqa: E731
        old = OldScript(sb.ica_url, sb.basespace_url, "sandbox-key", "sandbox-token", advance=clock)
        f = facts(sb.world, sb.clock.now())
        old.run(sb.clock.now())
        first = sb.request_counts()["by_route"]
        sb.reset_request_counts()
        old.run(sb.clock.now())
        second = sb.request_counts()["by_route"]
    assert first["POST /api/projects/{projectId}/dataLinkingBatch"] == len(new)
    assert first["GET /api/projects/{projectId}/analyses"] == 3  # listed once per phase
    assert old.s3_writes == len(fresh)  # one manifest upload per new manifest (an existing one: 409)
    # one DELETE per dataset: as many as the delete window holds in the projects the old analyses name
    assert first.get("DELETE /v2/datasets/{id}", 0) <= f["bs_datasets"]
    assert "POST /api/projects/{projectId}/dataLinkingBatch" not in second  # the managed table remembers


def test_harness_measures_a_cold_plan_and_its_lower_bound(tmp_path):
    server = Server(4, 30)
    try:
        f = server.facts()
        plan = tmp_path / "cold.json"
        step = run_orch(server, "cold plan", ["plan", "-p", POLICY, "--out", str(plan)] +
                        server.orch_args(tmp_path / "state.db"), timeout=120, log=tmp_path / "log")
    finally:
        server.stop()
    assert step.exit_codes == [0], (tmp_path / "log").read_text()[-2000:]
    assert step.requests == sum(step.by_route.values()) > 0
    assert step.cpu_s > 0 and step.peak_rss_mb > 20
    actions = json.loads(plan.read_text())["actions"]
    assert sum(a["action"] == "mark_managed" for a in actions) == f["handoff_candidates"]
    terms = lb.cold_plan(f)
    assert lb.total(terms) == sum(n for _, _, n in terms)
    assert lb.arithmetic(terms).endswith(f"total {lb.total(terms):,}")
    applied = lb.apply({"actions": actions}, f)
    archives = sum(a["action"] == "archive" and a["resource"]["kind"] == "ica.data" for a in actions)
    assert dict((label.split(" (")[0], n) for label, _, n in applied).get("ICA archive", 0) == archives


@pytest.mark.parametrize("n,size,want", [(0, 1000, 0), (1, 1000, 1), (1000, 1000, 1), (1001, 1000, 2)])
def test_pages(n, size, want):
    assert lb.pages(n, size) == want
