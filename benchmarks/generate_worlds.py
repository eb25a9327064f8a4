"""Time and size of generated sandbox worlds (``orch sandbox generate``).

    .venv/bin/python benchmarks/generate_worlds.py                 # 500 analyses and ~1,000,000 files
    .venv/bin/python benchmarks/generate_worlds.py --analyses 2000 --files-per-analysis 500 --load

For each size: generate (dicts), dump to YAML and to JSON; with --load, parse the JSON back (and the
YAML with libyaml for small worlds or --yaml-parse) and load it into the sandbox
(``orch.sandbox.world.load_world``). Prints seconds, sizes and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import yaml

from orch.sandbox.generate import dump_world_json, dump_world_yaml, generate_world


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run(analyses: int, files_per_analysis: int, load: bool, out: Path | None, yaml_parse: bool) -> dict:
    row: dict = {"analyses": analyses, "files_per_analysis": files_per_analysis}
    t = time.perf_counter()
    world = generate_world(analyses=analyses, files_per_analysis=files_per_analysis, seed=1)
    row["generate_s"] = time.perf_counter() - t
    row["ica_files"] = sum(1 for p in world["ica"]["projects"] for d in p["data"] if not d["path"].endswith("/"))
    row["datasets"] = sum(len(p["datasets"]) for p in world["basespace"]["projects"])
    row["runs"] = len(world["basespace"]["runs"])
    t = time.perf_counter()
    text = dump_world_yaml(world)
    row["dump_yaml_s"] = time.perf_counter() - t
    row["yaml_mb"] = len(text.encode()) / 1e6
    t = time.perf_counter()
    jtext = dump_world_json(world)
    row["dump_json_s"] = time.perf_counter() - t
    row["json_mb"] = len(jtext.encode()) / 1e6
    if out:
        out.write_text(text, encoding="utf-8")
    del world
    if load:
        from orch.sandbox.world import load_world

        if yaml_parse:
            t = time.perf_counter()
            yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            row["parse_yaml_c_s"] = time.perf_counter() - t
        del text
        t = time.perf_counter()
        doc = json.loads(jtext)
        row["parse_json_s"] = time.perf_counter() - t
        del jtext
        t = time.perf_counter()
        load_world(doc)
        row["load_world_s"] = time.perf_counter() - t
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--analyses", type=int, help="one custom size instead of the two standard ones")
    ap.add_argument("--files-per-analysis", type=int, default=24)
    ap.add_argument("--load", action="store_true", help="also parse and load each world into the sandbox")
    ap.add_argument("--yaml-parse", action="store_true",
                    help="also time parsing the YAML with libyaml (minutes beyond ~100,000 files)")
    ap.add_argument("--out", type=Path, help="write the (last) world's YAML here")
    args = ap.parse_args(argv)
    sizes = ([(args.analyses, args.files_per_analysis)] if args.analyses is not None
             else [(500, 24), (41_667, 24)])  # 12,000 files; 1,000,008 files
    for analyses, fpa in sizes:
        row = run(analyses, fpa, args.load, args.out, args.yaml_parse or analyses * fpa <= 100_000)
        print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
