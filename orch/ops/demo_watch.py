"""``make demo-watch``: the demo world plus one BCLConvert analysis that succeeds on the sandbox clock a
few seconds in; ``orch watch --events`` on the sandbox's SQS queue hands it off seconds later.

Also the engine of ``benchmarks/watch_latency.py`` (``run_demo`` returns the timings). Everything is
local: the sandbox (ICA API + notification API) in this process, its moto server for SQS.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

NEW_ID = "9e0a1b2c-3d4e-4f50-8a61-7b8c9d0e1f20"
NEW_RUN = "20261125_LH00619_0036_B22WXYZ12A"


def demo_world(finish_in_s: float, link_batch: str | None = None) -> dict:
    """The shipped demo world plus analysis ``NEW_RUN`` (INPROGRESS until ``finish_in_s`` on the clock)."""
    from orch.engine.session import demo_world_path
    from orch.sandbox.world import read_world_file
    from orch.timeutil import format_ts, parse_ts

    world = copy.deepcopy(read_world_file(demo_world_path()))
    now = parse_ts(world["now"])
    src = next(p for p in world["ica"]["projects"] if p["name"] == "ken_debug")
    out = f"/ilmn-analyses/{NEW_RUN}-BclConvert_v4_1_23_patch1-{NEW_ID}/output/"
    for name in ("M-400-001_S1_L001_R1_001.fastq.gz", "M-400-001_S1_L001_R2_001.fastq.gz",
                 "Undetermined_S0_L001_R1_001.fastq.gz"):
        src.setdefault("data", []).append({"path": f"{out}Samples/Lane_1/{name}", "timeCreated": format_ts(now),
                                           "size": 1048576})
    src["analyses"].append({"id": NEW_ID, "userReference": NEW_RUN, "pipeline": "BclConvert_v4_1_23_patch1",
                            "status": "INPROGRESS", "timeCreated": format_ts(now), "startDate": format_ts(now),
                            "output": out, "finishAt": format_ts(now + timedelta(seconds=finish_in_s))})
    if link_batch:
        world.setdefault("timing", {})["link_batch"] = link_batch
    return world


@dataclass
class DemoResult:
    finished_at: float | None = None  # monotonic: the analysis became SUCCEEDED on the sandbox
    cycle_started: float | None = None  # the first hand-off action of the new analysis started
    handed_off: float | None = None  # its mark_managed was done
    cycles: list = field(default_factory=list)

    @property
    def to_cycle_s(self) -> float | None:
        return None if None in (self.finished_at, self.cycle_started) else self.cycle_started - self.finished_at

    @property
    def to_handoff_s(self) -> float | None:
        return None if None in (self.finished_at, self.handed_off) else self.handed_off - self.finished_at


def run_demo(*, finish_in_s: float = 15.0, debounce_s: float = 2.0, every_s: float = 600.0,
             link_batch: str | None = None, workdir: str | None = None, quiet: bool = False) -> DemoResult:
    from orch.ops.cycle import CycleHooks
    from orch.ops.events import SqsEvents, queue_endpoint
    from orch.ops.events_setup import IcaNotifications, SetupPlan
    from orch.ops.stop import StopFlag
    from orch.ops.watch import Watcher, WatchOptions
    from orch.sandbox.server import Sandbox
    from orch.settings import RunSettings

    work = Path(workdir or tempfile.mkdtemp(prefix="orch-demo-watch-"))
    result = DemoResult()
    sb = Sandbox(demo_world(finish_in_s, link_batch)).start()
    try:
        for k, v in {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox",
                     "AWS_DEFAULT_REGION": "us-east-1", "ICA_API_KEY": sb.world.api_key,
                     "BASESPACE_ACCESS_TOKEN": sb.world.access_token}.items():
            os.environ[k] = v
        url = sb.notifications.create_queue("orch-demo-events")
        projects = {p.name: p.id for p in sb.world.projects}
        IcaNotifications(sb.ica_url, sb.world.api_key).apply(SetupPlan(url, "us-east-1", projects))
        original = sb.notifications.after_settle

        def after_settle(seen, now):  # note when the new analysis succeeds (for the latency)
            original(seen, now)
            if result.finished_at is None and any(k == "analysis" and key.endswith(NEW_ID) for k, key, _ in seen or []):
                result.finished_at = time.monotonic()

        sb.notifications.after_settle = after_settle
        mgi = str(Path(__file__).resolve().parents[2] / "policies" / "mgi.yaml")
        settings = RunSettings(policy_paths=[mgi], ica_url=sb.ica_url, basespace_url=sb.basespace_url,
                               s3_endpoint_url=sb.s3_endpoint_url, state=str(work / "state.db"), yes=True,
                               now=sb.world.now)
        _, endpoint, region = queue_endpoint("sqs://" + url)
        events = SqsEvents(url, endpoint, region, projects=lambda: set(projects.values()))
        stop = StopFlag()

        def on_result(r):
            if r.action.resource.id == NEW_ID and r.action.action == "mark_managed" and r.ok:
                result.handed_off = time.monotonic()

        def on_cycle(res):
            result.cycles.append(res)
            if res.reason == "event" and result.handed_off is not None:
                stop.request("demo-done")

        def on_start(action):
            mine = action.resource.id == NEW_ID or NEW_RUN in (action.resource.path or "")
            if result.cycle_started is None and mine:
                result.cycle_started = time.monotonic()

        if not quiet:
            from orch.ops.logsetup import setup_logging

            setup_logging(str(work / "orchestrator.log"), "text")
        import threading

        give_up = threading.Timer(finish_in_s + 120, stop.request, args=("timeout",))  # never wait for --every
        give_up.daemon = True
        give_up.start()
        try:
            Watcher(settings, WatchOptions(every_s=every_s, debounce_s=debounce_s, max_cycles=6), events=events,
                    hooks=CycleHooks(on_action_start=on_start, on_result=on_result), on_cycle=on_cycle,
                    stop=stop).run()
        finally:
            give_up.cancel()
            if not quiet:
                from orch.ops.logsetup import teardown_logging

                teardown_logging()
    finally:
        sb.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--finish-in", type=float, default=15.0, help="seconds until the new analysis succeeds")
    ap.add_argument("--debounce", type=float, default=2.0)
    args = ap.parse_args(argv)
    print(f"demo-watch: the demo world; analysis {NEW_RUN} succeeds {args.finish_in:g} s in; "
          f"orch watch --events (debounce {args.debounce:g} s, reconcile every 10 min)", file=sys.stderr)
    res = run_demo(finish_in_s=args.finish_in, debounce_s=args.debounce)
    if res.to_handoff_s is None:
        print("demo-watch: the new analysis was NOT handed off", file=sys.stderr)
        return 1
    print(f"demo-watch: {NEW_RUN} succeeded; its first link started {res.to_cycle_s:.1f} s later and its "
          f"hand-off was recorded {res.to_handoff_s:.1f} s after it succeeded (the next poll was 10 min away)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
