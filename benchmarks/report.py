"""``results.md`` (tables, with the lower bounds' arithmetic) and ``results.json`` from one bench run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONCURRENCY = 8
LATENCY_S = 0.05
CASES = [("cold plan", "cold plan"), ("apply", "apply"), ("steady plan", "steady plan"),
         ("new analysis plan", "new analysis plan"), ("new analysis apply", "new analysis apply")]


def _n(x: float | int | None, fmt: str = ",.0f") -> str:
    return "—" if x is None else format(x, fmt)


def _size_table(label: str, r: dict[str, Any]) -> list[str]:
    s0 = r.get("latency_0ms", {}).get("steps", {})
    s50 = r.get("latency_50ms", {}).get("steps", {})
    bounds = r.get("bounds", {})
    f = r.get("facts", {})
    out = [f"### {label}: {r['analyses']:,} analyses, {f.get('source_items', 0):,} ICA items in the source project, "
           f"{f.get('bs_datasets', 0):,} BaseSpace datasets, {f.get('bs_runs', 0):,} runs",
           "",
           "| case | requests | lower bound | × bound | wall 0 ms | wall 50 ms | 50 ms bound ¹ | CPU | peak RSS |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    names = [c for c, _ in CASES] + [k for k in s0 if k.endswith("cycles")] + ["cycle a day later"]
    for name in names:
        a = s0.get(name)
        if not a:
            continue
        b = s50.get(name, {})
        bound = bounds.get(name, {}).get("total")
        ratio = f"{a['requests'] / bound:.2f}" if bound else "—"
        w50 = _n(b.get("wall_s"), ",.1f") + (" (stopped)" if b.get("timed_out") else "") + " s" if b else "—"
        wb = a["requests"] / CONCURRENCY * LATENCY_S
        out.append(f"| {name} | {a['requests']:,} | {_n(bound)} | {ratio} | {a['wall_s']:,.1f} s"
                   f"{' (stopped)' if a['timed_out'] else ''} | {w50} | {wb:,.1f} s | {a['cpu_s']:,.1f} s | "
                   f"{a['peak_rss_mb']:,.0f} MB |")
    old = r.get("old_script")
    if old:
        for name in ("first run", "steady run", "new analysis run", "run a day later"):
            o = old[name]
            serial = o["wall_s"] + o["requests"] * LATENCY_S
            out.append(f"| old script: {name} | {o['requests']:,} | | | {o['wall_s']:,.1f} s | {serial:,.1f} s ² | | | |")
    out += ["", "¹ requests ÷ concurrency 8 × 50 ms (the target is ≤ 1.5 × this). "
            "² the old script is sequential: its 0 ms wall + requests × 50 ms.", ""]
    if bounds:
        out.append("Lower bounds (arithmetic):")
        out.append("")
        for name, b in bounds.items():
            out.append(f"- **{name}** = {b['total']:,}: {b['arithmetic']}")
        out.append("")
    if r.get("plan_actions"):
        out.append("Cold plan actions: " + ", ".join(f"{k} {v:,}" for k, v in r["plan_actions"].items()))
        out.append("")
    for name in ("cold plan", "apply", "steady plan", "new analysis plan", "new analysis apply"):
        a = s0.get(name)
        if a:
            routes = sorted(a["by_route"].items(), key=lambda kv: -kv[1])
            out.append(f"- requests by route, {name}: " + ", ".join(f"{k} {v:,}" for k, v in routes))
    if old:
        for name in ("first run", "steady run"):
            routes = sorted(old[name]["by_route"].items(), key=lambda kv: -kv[1])
            out.append(f"- requests by route, old script {name}: " + ", ".join(f"{k} {v:,}" for k, v in routes))
    out.append("")
    tp = r.get("throughput")
    if tp:
        out += ["Sandbox throughput (8 client threads, no latency):", "", "| listing | requests/s | errors |", "|---|---:|---:|"]
        out += [f"| {k} | {v['per_second']:,.0f} | {v['errors']} |" for k, v in tp.items()]
        out.append("")
    m = r.get("month", {})
    if m:
        out.append("Simulated month (30 days of 10-minute cycles, 3 new analyses a day):")
        out.append("")
        if "orch_requests" in m:
            out.append(f"- orch: {m['orch_requests']:,.0f} requests = {m['orch_requests_arithmetic']}; "
                       f"CPU {m['orch_cpu_s']:,.0f} s = {m['orch_cpu_arithmetic']}")
        if "old_requests" in m:
            out.append(f"- old script: {m['old_requests']:,.0f} requests = {m['old_requests_arithmetic']}")
        if "ratio" in m:
            out.append(f"- orch / old script: {m['ratio']:.3f}")
        out.append("")
    sb = r.get("latency_0ms", {}).get("sandbox_peak_rss_mb")
    if sb:
        out.append(f"Sandbox process peak RSS: {sb:,.0f} MB; world generated and loaded in {r.get('world_load_s', 0):.1f} s.")
        out.append("")
    return out


def write_reports(doc: dict[str, Any], out_dir: Path) -> None:
    (out_dir / "results.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    m = doc["machine"]
    lines = ["# orch benchmark results (`make bench`)", "",
             f"Date {doc['date']}; machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; "
             f"load average {m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end "
             f"(the machine is shared: wall times are noisy, CPU times less so); bench took "
             f"{doc.get('bench_seconds', 0):.0f} s.", "",
             "orch runs as a child process (CPU = user + system of that process, peak RSS from wait4); the sandbox "
             "serves from another process; requests are counted by the sandbox (`/_sandbox/requests`). Policy pack: "
             "policies/mgi.yaml with `--var max_deletes=1000000`. The old script's pattern: benchmarks/old_script.py.", ""]
    for label, r in doc["sizes"].items():
        lines += _size_table(label, r)
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")
