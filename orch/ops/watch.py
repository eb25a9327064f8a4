"""``orch watch``: plan and apply on a cadence, woken early by platform events, until stopped.

- cadence ``every`` with +/- ``jitter`` (a fraction), so many watchers do not poll in step;
- a transient failure (platform down, 5xx after retries, lock held) is logged and retried with
  exponential backoff from ``backoff_s``, capped at the cadence;
- ``max_auth_failures`` authentication failures in a row stop the watch (exit 1) with one clear line:
  a revoked key never fixes itself, and hammering the API with it helps nobody;
- a configuration error stops it at once;
- SIGTERM/SIGINT stop it between actions (``orch.ops.stop``), exit 0;
- with an event source, an event that could change a plan starts a cycle after ``debounce_s``;
  the cadence remains as the backstop for lost events. Events never bypass planning.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from orch.ops.cycle import CycleHooks, CycleResult, run_cycle
from orch.ops.stop import StopFlag, StopRequested
from orch.settings import RunSettings

log = logging.getLogger("orch.watch")
status_log = logging.getLogger("orch.watch.status")


class EventSource(Protocol):
    """Where "look now" comes from (``orch.ops.events.SqsEvents``)."""

    def wait(self, seconds: float) -> bool:
        """Block up to ``seconds``; True as soon as a relevant event arrived."""

    def settle(self) -> None:
        """A cycle covering the events seen so far has finished: forget them (delete the messages)."""


@dataclass
class WatchOptions:
    every_s: float = 600.0
    jitter: float = 0.1
    once: bool = False
    dry_run: bool = False
    max_auth_failures: int = 3
    backoff_s: float = 30.0
    debounce_s: float = 30.0
    lock_timeout_s: float = 30.0
    seed: int | None = None
    max_cycles: int | None = None  # tests and benchmarks: stop after this many cycles


@dataclass
class WatchOutcome:
    exit_code: int
    cycles: list[CycleResult] = field(default_factory=list)
    reason: str = ""


class Watcher:
    def __init__(self, settings: RunSettings, options: WatchOptions, *, events: EventSource | None = None,
                 hooks: CycleHooks | None = None, on_cycle: Callable[[CycleResult], None] | None = None,
                 stop: StopFlag | None = None, notifier: Any = None):
        self.settings = settings
        self.options = options
        self.events = events
        self.hooks = hooks or CycleHooks()
        self.on_cycle = on_cycle
        self.stop = stop or StopFlag()
        self.notifier = notifier  # orch.ops.watch_notify.CycleNotifier (--notify)
        self._rng = random.Random(options.seed)

    def next_delay(self, failures: int) -> float:
        o = self.options
        base = o.every_s if not failures else min(o.backoff_s * 2 ** (failures - 1), o.every_s)
        return max(0.0, base * (1 + self._rng.uniform(-o.jitter, o.jitter)))

    def run(self) -> WatchOutcome:
        o = self.options
        out = WatchOutcome(0)
        failures = auth_failures = 0
        reason = "once" if o.once else "start"
        with self.stop.installed():
            try:
                while True:
                    res = run_cycle(self.settings, self.stop, reason=reason, dry_run=o.dry_run,
                                    lock_timeout_s=o.lock_timeout_s, hooks=self.hooks)
                    out.cycles.append(res)
                    if self.events is not None and res.failure is None:
                        self.events.settle()
                    failures = failures + 1 if res.failure else 0
                    auth_failures = auth_failures + 1 if res.auth_failure else 0
                    last = (o.once or res.stopped or res.fatal or auth_failures >= o.max_auth_failures
                            or (o.max_cycles is not None and len(out.cycles) >= o.max_cycles))
                    delay = None if last else self.next_delay(failures)
                    self._report(res, delay)
                    if res.stopped:
                        return self._end(out, 0, f"stopped by {res.stopped}")
                    if res.fatal:
                        return self._end(out, 1, f"stopping: {res.failure}")
                    if auth_failures >= o.max_auth_failures:
                        return self._end(out, 1, f"stopping after {auth_failures} authentication failures in a row "
                                                 f"({res.failure}); check the credentials (API key file, BaseSpace "
                                                 f"config) and start orch watch again")
                    if o.once:
                        return self._end(out, res.exit_code, "done (--once)")
                    if o.max_cycles is not None and len(out.cycles) >= o.max_cycles:
                        return self._end(out, 0, f"done ({o.max_cycles} cycles)")
                    reason = self._wait(delay or 0.0)
            except StopRequested as exc:
                return self._end(out, 0, f"stopped by {exc.signame} while waiting")

    def _wait(self, delay: float) -> str:
        """Until the next poll is due, or an event asks to look now (then ``debounce_s`` more)."""
        deadline = time.monotonic() + delay
        if self.events is None:
            self.stop.sleep(delay)
            return "poll"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "poll"
            with self.stop.waiting():
                woken = self.events.wait(remaining)
            if woken:
                debounce_end = min(deadline, time.monotonic() + self.options.debounce_s)
                while (left := debounce_end - time.monotonic()) > 0:  # gather the burst: one cycle for it
                    with self.stop.waiting():
                        self.events.wait(left)
                return "event"

    def _report(self, res: CycleResult, delay: float | None) -> None:
        line = res.status_line(delay)
        status_log.log(logging.WARNING if res.failure or res.problems else logging.INFO, "%s", line)
        if self.notifier is not None:
            self.notifier.cycle(res)
        if self.on_cycle:
            self.on_cycle(res)

    def _end(self, out: WatchOutcome, code: int, reason: str) -> WatchOutcome:
        out.exit_code, out.reason = code, reason
        (log.error if code else log.info)("orch watch: %s", reason)
        if code and self.notifier is not None and reason.startswith("stopping"):
            self.notifier.stopped(reason)
        return out
