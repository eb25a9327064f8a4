"""Memory and speed of the sandbox on a 1,000,000-file world.

Builds the world as a dict (as ``orch sandbox generate`` would, minus YAML), loads it
(schema validation included), reports peak RSS and load time, then serves a few real
requests over HTTP: a full prefix listing page, a deep page via cursor, a parent-folder
listing and a single get.

    .venv/bin/python benchmarks/sandbox_memory.py [--files 1000000]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_world(n_files: int) -> dict:
    per_lane, lanes, samples = 2, 4, 50  # R1/R2 per lane per sample: 400 files per analysis
    per_analysis = per_lane * lanes * samples
    data, analyses = [], []
    n_analyses = (n_files + per_analysis - 1) // per_analysis
    for a in range(n_analyses):
        run = f"2026{(a % 12) + 1:02d}01_LH00619_{a:04d}_B22CCFJLT{a % 10}"
        out = f"/ilmn-analyses/{run}-BclConvert/output/"
        analyses.append({"userReference": run, "output": out, "startDate": "2026-09-01T00:00:00Z"})
        for s in range(samples):
            for lane in range(1, lanes + 1):
                for r in (1, 2):
                    if len(data) >= n_files:
                        break
                    data.append({"path": f"{out}Samples/Lane_{lane}/M-{s}_S{s + 1}_L00{lane}_R{r}_001.fastq.gz",
                                 "timeCreated": "2026-09-01T10:00:00Z", "size": 1_000_000 + s})
    return {"format_version": 1, "now": "2026-11-25T12:00:00Z",
            "ica": {"api_key": "bench", "projects": [{"name": "ken_debug", "data": data, "analyses": analyses}]}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1_000_000)
    args = parser.parse_args()

    import requests

    from orch.sandbox.server import Sandbox
    from orch.sandbox.world import load_world

    base = rss_mb()
    t0 = time.perf_counter()
    doc = build_world(args.files)
    t_build = time.perf_counter() - t0
    rss_doc = rss_mb()

    t0 = time.perf_counter()
    world = load_world(doc)
    t_load = time.perf_counter() - t0
    del doc
    gc.collect()
    rss_world = rss_mb()
    project = world.projects[0]
    n_items = len(project.data)

    with Sandbox(world) as sb:
        h = {"X-API-Key": "bench"}
        url = f"{sb.ica_url}/api/projects/{project.id}/data"
        timings = {}
        t0 = time.perf_counter()
        first = requests.get(url, headers=h, params={"pageSize": "1000", "filePath": "/ilmn-analyses/"}).json()
        timings["first page (1000, prefix)"] = time.perf_counter() - t0
        token, pages = first["nextPageToken"], 1
        t0 = time.perf_counter()
        while token and pages < 20:
            token = requests.get(url, headers=h, params={"pageSize": "1000", "pageToken": token}).json()["nextPageToken"]
            pages += 1
        timings["cursor pages 2-20 (each)"] = (time.perf_counter() - t0) / max(1, pages - 1)
        some = project.data.items[n_items // 2]
        t0 = time.perf_counter()
        children = requests.get(url, headers=h, params={"parentFolderPath": some.parent_path}).json()
        timings["parentFolderPath listing"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        requests.get(f"{url}/{some.id}", headers=h).raise_for_status()
        timings["single get"] = time.perf_counter() - t0
        assert len(first["items"]) == 1000 and children["items"]

    print(f"files requested          {args.files:>12,}")
    print(f"items indexed (w/ dirs)  {n_items:>12,}")
    print(f"build dict               {t_build:>11.1f}s")
    print(f"load_world (validate+index) {t_load:>8.1f}s")
    print(f"RSS baseline             {base:>10.0f} MB")
    print(f"RSS with world dict      {rss_doc:>10.0f} MB")
    print(f"RSS world loaded (dict freed) {rss_world:>5.0f} MB  (~{(rss_world - base) * 1024 * 1024 / n_items:.0f} bytes/item)")
    for name, secs in timings.items():
        print(f"{name:<28} {secs * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
