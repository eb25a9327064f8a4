"""SIGTERM/SIGINT for ``orch watch``: stop between actions, never in the middle of one.

While a cycle runs, a signal only sets a flag; the applier's next ``on_start`` (the start of the
next action or batch, after every result of the previous one is recorded) raises ``StopRequested``.
While waiting between cycles (sleep or an SQS long poll) nothing is in flight, so the handler
raises ``StopRequested`` at once and the wait ends immediately.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class StopRequested(Exception):
    """Raised to end ``orch watch`` at a safe point."""

    def __init__(self, signame: str):
        super().__init__(f"stopped by {signame}")
        self.signame = signame


class StopFlag:
    def __init__(self) -> None:
        self.signame: str | None = None
        self.event = threading.Event()
        self._waiting = False
        self._between = True  # no action started since the last result

    @property
    def requested(self) -> bool:
        return self.signame is not None

    def request(self, signame: str) -> None:
        self.signame = signame
        self.event.set()

    def _handler(self, signum: int, _frame) -> None:
        self.request(signal.Signals(signum).name)
        if self._waiting:  # nothing in flight: end the wait now
            raise StopRequested(self.signame or "signal")

    @contextlib.contextmanager
    def installed(self) -> Iterator["StopFlag"]:
        """Install the handlers (main thread only; elsewhere the flag is set by ``request``)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handler) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """A stretch where nothing is in flight: a signal interrupts it at once."""
        if self.requested:
            raise StopRequested(self.signame or "signal")
        self._waiting = True
        try:
            yield
        finally:
            self._waiting = False

    def sleep(self, seconds: float) -> None:
        with self.waiting():
            self.event.wait(max(0.0, seconds))
        if self.requested:
            raise StopRequested(self.signame or "signal")

    # -- the applier's callbacks
    def before_action(self) -> None:
        """``on_start`` of each action: a batch already started runs to its end."""
        if self._between and self.requested:
            raise StopRequested(self.signame or "signal")
        self._between = False

    def after_action(self) -> None:
        self._between = True
