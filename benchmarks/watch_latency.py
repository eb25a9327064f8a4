"""Event-to-hand-off latency of ``orch watch --events`` (issue 14), on the sandbox: a BCLConvert
analysis succeeds on the sandbox clock, the sandbox sends ICA_EXEC_028 to its SQS queue (moto), the
watch wakes, debounces, plans and applies. Measured: from the analysis succeeding to its first link
starting, and to its hand-off (mark_managed) being recorded. Not a test: numbers, printed.

    .venv/bin/python benchmarks/watch_latency.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orch.ops.demo_watch import run_demo  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    configs = [("debounce 0 s, link batch 0 s", 0.0, "0s"), ("debounce 2 s, link batch 0 s", 2.0, "0s"),
               ("debounce 2 s, link batch 5 s (demo timing)", 2.0, None)]
    print(f"{'configuration':45} {'to first link (s)':>20} {'to hand-off (s)':>18}   (median / max of {args.runs})")
    for label, debounce, batch in configs:
        first, done = [], []
        for _ in range(args.runs):
            r = run_demo(finish_in_s=15.0, debounce_s=debounce, link_batch=batch, quiet=True)
            if r.to_handoff_s is None:
                print(f"{label}: the analysis was not handed off", file=sys.stderr)
                return 1
            first.append(r.to_cycle_s)
            done.append(r.to_handoff_s)
        print(f"{label:45} {statistics.median(first):9.2f} / {max(first):6.2f} {statistics.median(done):9.2f} / {max(done):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
