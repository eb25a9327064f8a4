"""How many HTTP requests does a full inventory take? (counted by the sandbox's /_sandbox/requests)

"Inventory" = the source and destination ICA projects, every analysis of the source project,
their outputs, every file under their output folders, the contents of each bsshoutput.json,
the BaseSpace projects, the datasets of the projects those files name, and the BaseSpace runs.
It is done the way the connectors are meant to be used: analyses with one paged search, output
folders fetched in id batches, one recursive listing per output folder, independent reads run
concurrently, and a second inventory in the same run served from the run cache (0 requests).

    .venv/bin/python benchmarks/inventory_requests.py [--analyses 500] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

from orch.connectors.basespace import BasespaceClient
from orch.connectors.ica import IcaClient
from orch.sandbox.generate import generate_world
from orch.sandbox.server import Sandbox

DEMO = Path(__file__).resolve().parents[1] / "orch" / "data" / "demo.yaml"


def inventory(ica: IcaClient, bs: BasespaceClient, source: str, destination: str) -> dict[str, int]:
    src = ica.find_project(source)
    ica.find_project(destination)
    analyses = list(ica.list_analyses(src.id))
    outputs = ica.outputs_of(src.id, [a.id for a in analyses])
    folder_ids = [o.data_id for outs in outputs.values() for o in outs if o.data_type == "FOLDER"]
    folders = ica.get_many(src.id, folder_ids)
    file_lists = ica.map(lambda f: ica.files_under(src.id, f.path), list(folders.values()))
    files = [f for fl in file_lists for f in fl]
    bssh_files = [f for f in files if f.name == "bsshoutput.json" and f.status == "AVAILABLE"]
    bodies = ica.map(lambda f: ica.read_bytes(src.id, f.id), bssh_files)
    names: set[str] = set()
    for body in bodies:
        try:
            projects = json.loads(body).get("Projects") or {}
        except ValueError:
            continue
        names |= {p.get("Name") for p in projects.values() if isinstance(p, dict) and p.get("Name")}
    by_name = bs.projects_by_name(names)
    bs_projects = [p for ps in by_name.values() for p in ps]
    datasets = [d for ds in ica.map(lambda p: list(bs.list_datasets(p.id)), bs_projects) for d in ds]
    runs = list(bs.list_runs())
    return {"analyses": len(analyses), "output folders": len(folders), "files": len(files),
            "bsshoutput.json": len(bodies), "BaseSpace projects": len(bs_projects),
            "datasets": len(datasets), "runs": len(runs)}


def measure(label: str, world: Any, concurrency: int) -> dict[str, Any]:
    with Sandbox(world) as sb:
        ica = IcaClient(sb.ica_url, sb.world.api_key, concurrency=concurrency)
        bs = BasespaceClient(sb.basespace_url, sb.world.access_token, concurrency=concurrency)
        requests.post(sb.control_url + "/requests:reset", timeout=10)
        started = time.monotonic()
        sizes = inventory(ica, bs, "ken_debug", "Ken_demos")
        elapsed = time.monotonic() - started
        first = requests.get(sb.control_url + "/requests", timeout=10).json()
        inventory(ica, bs, "ken_debug", "Ken_demos")
        second = requests.get(sb.control_url + "/requests", timeout=10).json()["total"] - first["total"]
        client_side = ica.http.calls + bs.http.calls
        downloads = ica.http.downloads
        # Alternative for the output files: one recursive FILE listing of the folders' common root
        # instead of one listing per output folder (cheaper when the outputs are most of the project).
        fresh = IcaClient(sb.ica_url, sb.world.api_key)
        src = fresh.find_project("ken_debug")
        requests.post(sb.control_url + "/requests:reset", timeout=10)
        n_files = len(list(fresh.list_data(src.id, path_prefix="/ilmn-analyses/", data_type="FILE")))
        one_listing = requests.get(sb.control_url + "/requests", timeout=10).json()["total"]
        return {"world": label, **sizes, "requests": first["total"], "client calls": client_side,
                "downloads": downloads, "seconds": round(elapsed, 2), "second inventory": second,
                "by_route": first["by_route"], "root listing": (one_listing, n_files)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--analyses", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    results = [measure("demo", DEMO, args.concurrency),
               measure(f"generated {args.analyses}", generate_world(analyses=args.analyses), args.concurrency)]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        print(f"== {r['world']}: {r['requests']} API requests + {r['downloads']} presigned-URL GETs "
              f"in {r['seconds']} s (client-side API calls {r['client calls']}; a second inventory in the same "
              f"run: {r['second inventory']} requests)")
        print("   " + ", ".join(f"{k} {r[k]}" for k in ("analyses", "output folders", "files", "bsshoutput.json",
                                                       "BaseSpace projects", "datasets", "runs")))
        for route, n in sorted(r["by_route"].items(), key=lambda kv: -kv[1]):
            print(f"   {n:6d}  {route}")
        n, files = r["root listing"]
        print(f"   alternative: all {files} files under /ilmn-analyses/ in one paged listing = {n} requests "
              f"(instead of {r['output folders']} per-folder listings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
