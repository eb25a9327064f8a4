"""The sandbox as a separate process for ``make bench`` (its CPU does not count as orch's).

    .venv/bin/python benchmarks/bench_server.py --analyses 1000 --files-per-analysis 200

Generates the world in-process (``orch.sandbox.generate``, deterministic for a seed), serves it
with the ordinary ``Sandbox`` and prints ``ica_url=``, ``basespace_url=``, ``s3_endpoint_url=``
and ``control_url=`` lines, then ``ready``. A thin layer in front of the sandbox adds three bench-only
control routes (not part of either platform, never counted in ``/_sandbox/requests``):

- ``POST /_bench/latency`` ``{"ms": 50}``: injected latency per platform request from now on
  (slept before the sandbox's lock, so concurrent requests overlap as on a real network);
- ``POST /_bench/analyses`` ``{"count": 1}``: that many new BCL Convert analyses, finished an
  hour ago, ICA-managed, with the world's files per analysis (a real lab's new run);
- ``GET /_bench/facts``: the counts the lower bounds are computed from (``lower_bound.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import signal
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from orch.sandbox.generate import generate_world
from orch.sandbox.server import Sandbox
from orch.sandbox.state import Analysis, DataItem, World, data_id_for
from orch.sandbox.world import load_world

BCL = re.compile(r"(?i)bcl.*convert")
FINAL = {"SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED"}
DAYS_TO_ARCHIVE, DAYS_TO_DELETE, HANDOFF_MAX_AGE = 60, 90, 60  # the MGI pack's defaults


class BenchLayer:
    """WSGI layer in front of the sandbox's own (counting) application."""

    def __init__(self, sandbox: Sandbox, inner, files_per_analysis: int):
        self.sb = sandbox
        self.inner = inner
        self.latency = 0.0
        self.files_per_analysis = files_per_analysis
        self.added = 0

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            try:
                body = self.handle(environ, path[len("/_bench/"):])
                status = "200 OK"
            except Exception as exc:  # a bench bug: say so, do not hide it
                body, status = {"error": f"{type(exc).__name__}: {exc}"}, "500 Internal Server Error"
            data = json.dumps(body).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        if self.latency and not path.startswith("/_sandbox"):
            time.sleep(self.latency)
        return self.inner(environ, start_response)

    def handle(self, environ: dict, what: str) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        if what == "latency":
            self.latency = float(payload.get("ms", 0)) / 1000.0
            return {"ms": self.latency * 1000}
        with self.sb.lock:
            now = self.sb.clock.now()
            self.sb.settle(now)
            if what == "analyses":
                return {"added": [self.add_analysis(now) for _ in range(int(payload.get("count", 1)))]}
            if what == "facts":
                return facts(self.sb.world, now)
            if what == "rss":
                return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        raise ValueError(f"unknown bench route {what}")

    def add_analysis(self, now: datetime) -> str:
        """A new finished BCL Convert analysis: one drawn from a small generated world (its own seed),
        moved into the source project with its times set to 'finished an hour ago'."""
        self.added += 1
        world = self.sb.world
        source = world.projects[0]
        for seed in range(10_000 + self.added * 100, 10_000 + self.added * 100 + 100):
            mini = generate_world(analyses=8, files_per_analysis=self.files_per_analysis, seed=seed,
                                  bssh_fraction=0.0, now=now)
            picks = [a for a in mini["ica"]["projects"][0]["analyses"] if BCL.search(a["pipeline"])]
            if picks:
                break
        a = picks[0]
        start, end = now - timedelta(hours=3), now - timedelta(hours=1)
        out = a["output"]
        files = [d for d in mini["ica"]["projects"][0]["data"] if d["path"].startswith(out) and d["path"] != out]
        world.ensure_folders(source, out + "x", start)
        for d in files:
            world.ensure_folders(source, d["path"], end)
            content = d["content"].encode() if "content" in d else None
            world.add_data(DataItem(id=d["id"], owner=source, path=d["path"], status="AVAILABLE", time_created=end,
                                    time_modified=end, size=len(content) if content is not None else d.get("size", 0),
                                    content=content, format_code=d.get("format")))
        source.analyses.append(Analysis(
            id=a["id"], reference=a["reference"], user_reference=a["userReference"], pipeline=a["pipeline"],
            status="SUCCEEDED", time_created=start - timedelta(minutes=5), time_modified=end, start_date=start,
            end_date=end, output=out, output_id=source.data.get(out).id))
        return a["id"]


def _age_days(when: datetime | None, now: datetime) -> float:
    return (now - when).total_seconds() / 86400 if when else 0.0


def facts(world: World, now: datetime) -> dict[str, Any]:
    """What the MGI pack's decisions need, counted from the world (for the lower bounds)."""
    source, dest = world.projects[0], world.projects[1]
    out: dict[str, Any] = {"now": now.isoformat(), "ica_projects": len(world.projects),
                           "analyses": len(source.analyses)}
    handoff: list[dict] = []
    window = {"archive": {"ica": 0, "bssh": 0}, "delete": {"ica": 0, "bssh": 0}}
    bssh_projects: set[str] = set()
    ica_folders_in_windows = 0
    bsshoutput_files = 0
    for a in source.analyses:
        age = _age_days(a.start_date, now)
        files = source.data.subtree(a.output) if a.output and source.data.get(a.output) else []
        files = [f for f in files if not f.is_folder]
        bssh = [f for f in files if f.name == "bsshoutput.json"]
        bsshoutput_files += len(bssh)
        if BCL.search(a.pipeline) and a.status == "SUCCEEDED" and age <= HANDOFF_MAX_AGE:
            mgi = [f for f in files if f.name.endswith(".fastq.gz") and re.match(r"^M[-_]", f.name)]
            handoff.append({"files": len(files), "mgi": len(mgi)})
        if a.status not in FINAL or age <= DAYS_TO_ARCHIVE or not files:
            continue
        which = "delete" if age > DAYS_TO_DELETE else "archive"
        kind = "bssh" if bssh else "ica"
        window[which][kind] += 1
        if kind == "ica":
            ica_folders_in_windows += 1
        else:
            for f in bssh:
                try:
                    names = [p.get("Name") for p in json.loads(f.content or b"{}").get("Projects", {}).values()]
                except ValueError:
                    names = []
                bssh_projects |= {n for n in names if n}
    named = [p for p in world.bs_projects if p.Name in bssh_projects]
    out.update({
        "handoff_candidates": len(handoff), "handoff_files": [h["files"] for h in handoff],
        "handoff_mgi_files": sum(h["mgi"] for h in handoff), "windows": window,
        "ica_folders_in_windows": ica_folders_in_windows, "bsshoutput_files": bsshoutput_files,
        "bs_projects": len(world.bs_projects), "bs_named_projects": len(named),
        "bs_datasets_per_named_project": [len(p.datasets) for p in named],
        "bs_datasets": sum(len(p.datasets) for p in world.bs_projects),
        "bs_project_sizes": {p.Id: len(p.datasets) for p in world.bs_projects},
        "bs_runs": len(world.runs), "dest_items": len(dest.data),
        "source_items": len(source.data),
        "dest_manifests": sum(1 for d in dest.data.iter_from(None, "/fastq_manifests/") if not d.is_folder),
    })
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--analyses", type=int, required=True)
    ap.add_argument("--files-per-analysis", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    world = load_world(generate_world(analyses=args.analyses, files_per_analysis=args.files_per_analysis,
                                      seed=args.seed))
    loaded = time.perf_counter() - t0
    sb = Sandbox(world)
    layer = BenchLayer(sb, sb._served, args.files_per_analysis)  # noqa: SLF001 (the bench's own layer)
    layer.latency = args.latency_ms / 1000.0
    sb._served = layer  # noqa: SLF001
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sb.start()
    try:
        print(f"ica_url={sb.ica_url}", flush=True)
        print(f"basespace_url={sb.basespace_url}", flush=True)
        print(f"s3_endpoint_url={sb.s3_endpoint_url}", flush=True)
        print(f"control_url={sb.base_url}", flush=True)
        print(f"load_seconds={loaded:.1f}", flush=True)
        print("ready", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
