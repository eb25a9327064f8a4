"""How long does rendering take for large plans and applies? (no network: synthetic plans)

Measures, at a fixed console width of 120:
- ``plan table``: ``render_table`` of a plan with N link actions (hand-offs of many analyses,
  realistic ICA paths and reasons) plus some deletes;
- ``plan markdown``: ``render_markdown`` of the same plan;
- ``apply (log)``: the live display in cron/log mode (a console that is not a terminal: one line
  per action) plus the final summary, for an apply of M actions;
- ``apply (bar)``: the same with a terminal console (Rich progress bar).

    .venv/bin/python benchmarks/render_speed.py [--plan-actions 20000] [--apply-actions 1400]
"""

from __future__ import annotations

import argparse
import io
import time
from typing import Callable

from rich.console import Console

from orch.engine.plan import ActionResult, ApplyReport, Outcome, Plan, PlannedAction
from orch.engine import render
from orch.engine.render import ApplyProgress, make_console, print_apply_summary, render_markdown, render_table
from orch.timeutil import parse_ts

NOW = parse_ts("2026-11-25T12:00:00Z")
MAX_ROWS = getattr(render, "MAX_ROWS", 500)  # (getattr: the script also runs against older versions)
FILES_PER_ANALYSIS = 12


def synthetic_actions(n: int) -> list[PlannedAction]:
    """``n`` actions: links of 12 FASTQs per analysis, every 50th action a folder delete."""
    out = []
    for i in range(n):
        run = f"2026{i // FILES_PER_ANALYSIS:06d}_LH00619_0021_B22CCFJLT4"
        ref = f"{run}_3fa91c_07be2d-BclConvert_v4_1_23_patch1-5c1e7a90-3d2b-4f6e-8a1c-{i // FILES_PER_ANALYSIS:012d}"
        if i % 50 == 49:
            out.append(PlannedAction.create(
                "delete-ica-outputs", "mgi", "delete",
                {"kind": "ica.data", "id": f"fol.{i:032x}", "project_id": "prj", "name": "output",
                 "path": f"/ilmn-analyses/{ref}/output/", "status": "AVAILABLE"},
                reason=f"delete output folder of analysis {run} (FAILED, startDate 2026-08-17, 100.0 days ago); "
                       "status in [AVAILABLE, ARCHIVED]", fingerprint="f"))
            continue
        name = f"M-{i:05d}_S1_L001_R{i % 2 + 1}_001.fastq.gz"
        out.append(PlannedAction.create(
            "handoff-mgi-fastqs", "mgi", "link",
            {"kind": "ica.data", "id": f"fil.{i:032x}", "project_id": "prj", "name": name,
             "path": f"/ilmn-analyses/{ref}/output/Samples/Lane_1/{name}", "status": "AVAILABLE"},
            {"to_project": "Ken_demos", "to_project_id": "prj-dst"},
            reason=f"link output file of analysis {run} into Ken_demos: not linked there yet; mgi_fastq",
            fingerprint="f"))
    return out


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def apply_run(actions: list[PlannedAction], terminal: bool) -> None:
    results = [ActionResult(a, Outcome.FAILED if i % 200 == 7 else Outcome.DONE,
                            "ICA POST /api/projects/{projectId}/data/{dataId}:linkDataToProject failed: HTTP 500"
                            if i % 200 == 7 else "")
               for i, a in enumerate(actions)]
    console = Console(file=io.StringIO(), width=120, force_terminal=terminal, color_system=None,
                      highlight=False, emoji=False)
    report = ApplyReport()
    with ApplyProgress(len(results), console=console) as progress:
        for r in results:
            progress.start(r.action)
            report.add(r)
            progress.finish(r)
    print_apply_summary(report, make_console(120))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan-actions", type=int, default=20000)
    parser.add_argument("--apply-actions", type=int, default=1400)
    args = parser.parse_args()
    plan = Plan.create(NOW, synthetic_actions(args.plan_actions))
    small = Plan.create(NOW, synthetic_actions(min(args.plan_actions, MAX_ROWS)))  # the largest listed in full
    apply_actions = synthetic_actions(args.apply_actions)
    rows = [
        (f"plan table, {len(small.actions)} actions", timed(lambda: render_table(small, 120))),
        (f"plan table, {len(plan.actions)} actions", timed(lambda: render_table(plan, 120))),
        (f"plan markdown, {len(plan.actions)} actions", timed(lambda: render_markdown(plan))),
        (f"apply (log lines), {len(apply_actions)} actions", timed(lambda: apply_run(apply_actions, False))),
        (f"apply (progress bar), {len(apply_actions)} actions", timed(lambda: apply_run(apply_actions, True))),
    ]
    for label, seconds in rows:
        print(f"{label:<45} {seconds:8.2f} s")


if __name__ == "__main__":
    main()
