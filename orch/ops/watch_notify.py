"""``orch watch --notify TARGET``: tell the operator when cycles fail, and when they recover.

One message per change, not per cycle: a platform down for a day would otherwise send a message
every backoff step. A failed delivery is logged (without the target's secret) and never stops the
watch.
"""

from __future__ import annotations

import logging
from collections import Counter

from orch.ops.cycle import CycleResult
from orch.ops.notify import Message, NotifyError, Sender, render
from orch.timeutil import format_ts

log = logging.getLogger("orch.watch")

_PHRASES = {"failed": "failed", "refused": "refused", "refused-stale": "refused as stale",
            "not-run": "not run (a step before them did not succeed)"}


def problem_lines(res: CycleResult) -> list[str]:
    """E.g. ``3 deletes refused as stale``, one line per (action, outcome), then the plan errors."""
    counts = Counter((r.action.action, r.outcome.value) for r in (res.report.results if res.report else [])
                     if not r.ok)
    lines = [f"{n} {action}{'s' if n != 1 else ''} {_PHRASES.get(outcome, outcome)}"
             for (action, outcome), n in sorted(counts.items())]
    return lines + [f"plan error: {e}" for e in res.errors]


class CycleNotifier:
    def __init__(self, senders: list[Sender]):
        self.senders = senders
        self._last: str | None = None  # what the last problem message said (None: all was well)
        self._failed = 0

    def cycle(self, res: CycleResult) -> None:
        started = format_ts(res.started.replace(microsecond=0))
        lines = problem_lines(res)
        if res.failure or lines:
            self._failed += 1
            key = res.failure.split(":")[0] if res.failure else "\n".join(lines)
            if key != self._last:
                self._last = key
                self._send("orch watch: cycle problems",
                           render("cycle_problem", started=started, failure=res.failure, problems=lines,
                                  stopped_reason=None))
        elif self._last is not None:
            self._send("orch watch: recovered", render("cycle_recovered", started=started,
                                                          failed_cycles=self._failed))
            self._last, self._failed = None, 0

    def stopped(self, reason: str) -> None:
        self._send("orch watch stopped", render("cycle_problem", started="", failure=None, problems=[],
                                                  stopped_reason=reason))

    def _send(self, subject: str, text: str) -> None:
        for s in self.senders:
            try:
                s.send(Message(subject, text))
            except NotifyError as exc:
                log.warning("notification not delivered: %s", exc)
