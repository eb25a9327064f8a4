"""``orch watch`` on the sandbox: cadence, SIGTERM between actions, repeated 401s, transient failures."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from ops_helpers import DST, handoff_world, keys_env, project_data, watch_settings, watchdog
from orch.engine.ledger import Ledger
from orch.ops.cycle import CycleHooks
from orch.ops.stop import StopFlag
from orch.ops.watch import Watcher, WatchOptions

LINKED = "/ilmn-analyses/RUN_A/output/Samples/Lane_1/M-1_S1_L001_R1_001.fastq.gz"
MANIFEST = "/fastq_manifests/RUN_A-BclConvert_v4_1_23-5c1e.download_manifest.csv"
RUN_A = "5c1e0000-0000-4000-8000-00000000000a"


@pytest.fixture
def sb(make_sandbox, small_world, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    sandbox = make_sandbox(handoff_world(small_world))
    keys_env(monkeypatch, sandbox)
    return sandbox


def test_short_cadence_hands_off_once_then_plans_nothing(sb, tmp_path):
    starts: list[float] = []
    w = Watcher(watch_settings(sb, tmp_path), WatchOptions(every_s=0.3, jitter=0.2, max_cycles=3, seed=1),
                on_cycle=lambda r: starts.append(time.monotonic()))
    out = w.run()
    assert out.exit_code == 0, [c.status_line() for c in out.cycles]
    first, *rest = out.cycles
    assert first.outcomes.get("done", 0) >= 3 and first.problems == 0
    assert {"link", "manifest", "mark_managed"} <= set(first.planned)
    assert all(sum(c.planned.get(k, 0) for k in ("link", "manifest", "mark_managed")) == 0 for c in rest)
    data = project_data(sb, DST)
    assert LINKED in data and MANIFEST in data
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(g >= 0.3 * 0.8 - 0.05 for g in gaps), gaps  # the cadence (minus jitter) separates cycles
    assert "planned" in first.status_line() and "done" in first.status_line()


def test_sigterm_mid_cycle_stops_between_actions_and_the_next_run_finishes(sb, tmp_path):
    started: list[str] = []

    def first_action_sends_sigterm(action):
        started.append(action.action)
        if len(started) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal, while the cycle is applying

    settings = watch_settings(sb, tmp_path)
    out = Watcher(settings, WatchOptions(every_s=60), hooks=CycleHooks(on_action_start=first_action_sends_sigterm)).run()
    assert out.exit_code == 0 and "SIGTERM" in out.reason
    (cycle,) = out.cycles
    assert cycle.stopped == "SIGTERM"
    done = [r for r in cycle.report.results]
    # the batch that had started ran to its end; nothing after it started
    assert done and {r.action.action for r in done} == {started[0]} and all(r.ok for r in done)
    assert len(started) == len(done)
    assert sum(cycle.planned.values()) > len(done)
    assert MANIFEST not in project_data(sb, DST)
    with Ledger(settings.state) as ledger:
        assert not ledger.is_managed(RUN_A)
        assert len(ledger.history(100)) == len(done)  # every action that ran is in the audit log
    again = Watcher(settings, WatchOptions(once=True)).run()
    assert again.exit_code == 0, again.cycles[0].status_line()
    assert MANIFEST in project_data(sb, DST)
    with Ledger(settings.state) as ledger:
        assert ledger.is_managed(RUN_A)


def test_sigterm_while_waiting_ends_the_wait_at_once(sb, tmp_path):
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    stop = StopFlag()
    with watchdog(stop, 60):
        out = Watcher(watch_settings(sb, tmp_path), WatchOptions(every_s=3600), on_cycle=lambda r: timer.start(),
                      stop=stop).run()
    assert out.exit_code == 0 and out.reason == "stopped by SIGTERM while waiting"
    assert len(out.cycles) == 1 and out.cycles[0].stopped is None


def test_repeated_401s_stop_the_watch_with_a_clear_message(sb, tmp_path, monkeypatch, caplog):
    keys_env(monkeypatch, sb, ica_key="revoked-key")
    out = Watcher(watch_settings(sb, tmp_path), WatchOptions(every_s=60, backoff_s=0.05, max_auth_failures=3)).run()
    assert out.exit_code == 1
    assert len(out.cycles) == 3 and all(c.auth_failure for c in out.cycles)
    assert "3 authentication failures in a row" in out.reason and "HTTP 401" in out.reason
    assert "revoked-key" not in out.reason + "".join(c.status_line() for c in out.cycles)
    assert LINKED not in project_data(sb, DST)


def test_a_transient_failure_is_retried_with_backoff_and_the_watch_goes_on(sb, tmp_path):
    settings = watch_settings(sb, tmp_path)
    held, release = threading.Event(), threading.Event()

    def hold_lock():  # a manual `orch apply` holding the apply lock for a while
        with Ledger(settings.state) as ledger, ledger.apply_lock():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait(5)
    releaser = threading.Timer(0.6, release.set)
    releaser.start()
    try:
        stop = StopFlag()
        out = Watcher(settings, WatchOptions(every_s=60, backoff_s=0.2, lock_timeout_s=0.1, max_cycles=10, jitter=0),
                      on_cycle=lambda r: r.failure is None and stop.request("test"), stop=stop).run()
    finally:
        release.set()
        holder.join()
    failed = [c for c in out.cycles if c.failure]
    assert failed and all("another orch apply is running" in c.failure for c in failed)
    assert out.cycles[-1].failure is None and out.exit_code == 0
    ok = next(c for c in out.cycles if not c.failure)
    assert ok.outcomes.get("done", 0) >= 3
    assert LINKED in project_data(sb, DST)
