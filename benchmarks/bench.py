"""``make bench``: orch's requests, wall time, CPU and peak RSS on generated worlds, beside the lower
bounds and the old script's call pattern (issue 13).

    .venv/bin/python benchmarks/bench.py                 # S and M (within 15 minutes on 2 cores)
    .venv/bin/python benchmarks/bench.py --large         # S, M and L (5,000 analyses, 1,000,000 files)
    .venv/bin/python benchmarks/bench.py --sizes tiny --no-latency --cycles 1   # seconds (the smoke test)

For each world size, on a fresh sandbox process per pass (0 ms, then 50 ms injected latency), with
the MGI pack (``--var max_deletes=1000000``: a first run over a backlog is the case measured):
(a) cold ``plan --out``; (b) ``apply`` of that plan; (c) steady-state ``plan`` 10 minutes later;
(d) one new analysis: ``plan --out`` and ``apply``; (e) ten 10-minute cron cycles (``apply -p --yes``).
Then the old script's pattern (``old_script.py``) on a fresh world: its first run, a steady run,
a run with one new analysis and a run a day later; the sandbox's throughput on the world's
listings; and a simulated month of 10-minute cycles (3 new analyses a day) for both.
Writes ``benchmarks/results.md`` and ``benchmarks/results.json`` (``--out DIR`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lower_bound as lb  # noqa: E402
from old_script import OldScript  # noqa: E402
from report import write_reports  # noqa: E402
from runner import POLICY, Server, Step, run_orch  # noqa: E402
from throughput import measure_throughput  # noqa: E402

SIZES = {"tiny": (4, 30), "S": (100, 200), "M": (1000, 200), "L": (5000, 200)}
PLAN_VARS = ["--var", "max_deletes=1000000"]
CONCURRENCY = 8  # orch's default (RunSettings.concurrency)
CYCLES_PER_DAY = 144


def orch_sequence(server: Server, cycles: int, timeout: float, log: Path) -> dict[str, Any]:
    """Steps (a)-(e) on one server; stops early (marking the rest skipped) when a step times out."""
    state = server.workdir / "state.db"
    out: dict[str, Any] = {"facts_cold": server.facts()}

    def orch(name: str, *argv: str) -> Step:
        return run_orch(server, name, list(argv) + server.orch_args(state), timeout=timeout, log=log)

    plan = server.workdir / "cold.json"
    steps: list[Step] = [orch("cold plan", "plan", "-p", POLICY, *PLAN_VARS, "--out", str(plan))]
    out["plan_cold"] = json.loads(plan.read_text()) if plan.exists() and not steps[-1].timed_out else None
    if not steps[-1].timed_out:
        steps.append(orch("apply", "apply", str(plan), "--yes"))
    if not steps[-1].timed_out:
        server.advance("10m")
        out["facts_steady"] = server.facts()
        steps.append(orch("steady plan", "plan", "-p", POLICY, *PLAN_VARS, "--out", str(server.workdir / "steady.json")))
    if not steps[-1].timed_out:
        server.add_analyses(1)
        new = server.workdir / "new.json"
        steps.append(orch("new analysis plan", "plan", "-p", POLICY, *PLAN_VARS, "--out", str(new)))
        if not steps[-1].timed_out:
            steps.append(orch("new analysis apply", "apply", str(new), "--yes"))
    if not steps[-1].timed_out and cycles:
        total = Step(f"{cycles} cycles")
        for _ in range(cycles):
            server.advance("10m")
            one = orch("cycle", "apply", "-p", POLICY, *PLAN_VARS, "--yes")
            total.add(one)
            if one.timed_out:
                break
        steps.append(total)
    if not steps[-1].timed_out and cycles:
        server.advance("1d")  # the daily share of the month: what a day's ageing brings
        steps.append(orch("cycle a day later", "apply", "-p", POLICY, *PLAN_VARS, "--yes"))
    out["steps"] = {s.name: s.as_dict() for s in steps}
    out["sandbox_peak_rss_mb"] = server.rss_mb()
    return out


def old_sequence(server: Server) -> dict[str, Any]:
    old = OldScript(server.info["ica_url"], server.info["basespace_url"], "sandbox-key", "sandbox-token",
                    advance=server.advance)
    out: dict[str, Any] = {}

    def run(name: str) -> None:
        server.reset()
        t = time.perf_counter()
        cpu = time.process_time()
        old.run(datetime.fromisoformat(server.now().replace("Z", "+00:00")))
        counts = server.counts()
        out[name] = {"requests": counts["total"], "by_route": counts["by_route"],
                     "wall_s": time.perf_counter() - t, "client_cpu_s": time.process_time() - cpu}

    run("first run")
    server.advance("10m")
    run("steady run")
    server.add_analyses(1)
    server.advance("10m")
    run("new analysis run")
    server.advance("1d")
    run("run a day later")
    out["s3_transfers"] = {"reads": old.s3_reads, "writes": old.s3_writes}
    return out


def month(orch_steps: dict[str, Any], old: dict[str, Any] | None, per_day: int = 3, days: int = 30) -> dict[str, Any]:
    """30 days of 10-minute cycles: each day one cycle carries the day's ageing (measured: a cycle a day
    later), ``per_day`` cycles carry a new analysis each (measured: plan + apply of one), the rest are
    steady (measured: the mean of the ten cycles). The same composition for the old script."""
    def compose(steady: float, new: float, daily: float) -> tuple[float, str]:
        rest = CYCLES_PER_DAY - 1 - per_day
        total = days * (daily + per_day * new + rest * steady)
        return total, f"{days} x ({daily:,.0f} + {per_day} x {new:,.0f} + {rest} x {steady:,.1f})"

    out: dict[str, Any] = {}
    cyc = orch_steps.get("10 cycles") or next((v for k, v in orch_steps.items() if k.endswith("cycles")), None)
    need = ("new analysis plan", "new analysis apply", "cycle a day later")
    if cyc and all(k in orch_steps for k in need):
        steady_r, steady_c = cyc["requests"] / cyc["runs"], cyc["cpu_s"] / cyc["runs"]
        new_r = orch_steps["new analysis plan"]["requests"] + orch_steps["new analysis apply"]["requests"]
        new_c = orch_steps["new analysis plan"]["cpu_s"] + orch_steps["new analysis apply"]["cpu_s"]
        day = orch_steps["cycle a day later"]
        out["orch_requests"], out["orch_requests_arithmetic"] = compose(steady_r, new_r, day["requests"])
        out["orch_cpu_s"], out["orch_cpu_arithmetic"] = compose(steady_c, new_c, day["cpu_s"])
    if old:
        out["old_requests"], out["old_requests_arithmetic"] = compose(
            old["steady run"]["requests"], old["new analysis run"]["requests"], old["run a day later"]["requests"])
    if out.get("old_requests") and out.get("orch_requests"):
        out["ratio"] = out["orch_requests"] / out["old_requests"]
    return out


def bounds(seq: dict[str, Any], files_per_analysis: int) -> dict[str, Any]:
    f = seq["facts_cold"]
    out = {"cold plan": lb.cold_plan(f), "new analysis plan": lb.new_analysis(files_per_analysis),
           "new analysis apply": lb.new_analysis_apply()}
    if seq.get("plan_cold"):
        out["apply"] = lb.apply(seq["plan_cold"], f)
    if seq.get("facts_steady"):
        out["steady plan"] = lb.steady_plan(seq["facts_steady"])
    return {k: {"terms": v, "total": lb.total(v), "arithmetic": lb.arithmetic(v)} for k, v in out.items()}


def measure_size(label: str, analyses: int, fpa: int, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"analyses": analyses, "files_per_analysis": fpa}
    print(f"== {label}: {analyses} analyses x {fpa} files", flush=True)
    latencies = [0.0] if args.no_latency else [0.0, 50.0]
    for ms in latencies:
        server = Server(analyses, fpa, latency_ms=ms)
        try:
            result.setdefault("world_load_s", server.load_seconds)
            timeout = args.step_timeout if ms == 0 else args.latency_step_timeout
            seq = orch_sequence(server, args.cycles, timeout, log)
            key = f"latency_{int(ms)}ms"
            result[key] = {"steps": seq["steps"], "sandbox_peak_rss_mb": seq["sandbox_peak_rss_mb"]}
            if ms == 0:
                result["facts"] = seq["facts_cold"]
                result["plan_actions"] = _action_counts(seq.get("plan_cold"))
                result["bounds"] = bounds(seq, fpa)
                if not args.no_throughput:
                    result["throughput"] = measure_throughput(server, seconds=args.throughput_seconds)
            for name, s in seq["steps"].items():
                print(f"   {ms:>3.0f} ms  {name:<22} {s['requests']:>7,} req  {s['wall_s']:8.1f} s wall  "
                      f"{s['cpu_s']:7.1f} s CPU  {s['peak_rss_mb']:6.0f} MB{'  TIMED OUT' if s['timed_out'] else ''}",
                      flush=True)
        finally:
            server.stop()
    if not args.no_replay:
        server = Server(analyses, fpa)
        try:
            result["old_script"] = old_sequence(server)
            for name, r in result["old_script"].items():
                if "requests" in r:
                    print(f"   old script {name:<18} {r['requests']:>7,} req  {r['wall_s']:8.1f} s wall", flush=True)
        finally:
            server.stop()
    result["month"] = month(result["latency_0ms"]["steps"], result.get("old_script"))
    return result


def _action_counts(plan: dict[str, Any] | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in (plan or {}).get("actions", []):
        key = f"{a['action']} {a['resource']['kind']}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in load], "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M", help="comma-separated: tiny, S, M, L (default S,M)")
    ap.add_argument("--large", action="store_true", help="also L (5,000 analyses, 1,000,000 files)")
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--no-latency", action="store_true", help="skip the 50 ms pass")
    ap.add_argument("--no-replay", action="store_true", help="skip the old script's replay")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--throughput-seconds", type=float, default=5.0)
    ap.add_argument("--step-timeout", type=float, default=600.0, help="seconds before an orch run is stopped")
    ap.add_argument("--latency-step-timeout", type=float, default=300.0,
                    help="the same in the 50 ms pass (the rest of that pass is skipped after a stop)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()] + (["L"] if args.large else [])
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        print(f"error: unknown size {unknown[0]!r}; use {', '.join(SIZES)}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "bench-orch.log"
    log.write_text("")
    started = time.perf_counter()
    doc: dict[str, Any] = {"date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                           "machine": machine(), "concurrency": CONCURRENCY, "sizes": {}}
    for label in sizes:
        doc["sizes"][label] = measure_size(label, *SIZES[label], args, log)
    doc["bench_seconds"] = time.perf_counter() - started
    doc["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_reports(doc, args.out)
    print(f"wrote {args.out / 'results.md'} and results.json in {doc['bench_seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
