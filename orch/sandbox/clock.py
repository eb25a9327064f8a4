"""The sandbox clock: starts at the world's ``now`` and runs with real time.

``advance``/``jump_to`` move it forward (``POST /_sandbox/clock``); it never goes back.
Asynchronous work (archive, unarchive, delete, link batches) completes when the clock
passes its due time; callers ask ``now()`` and settle due work lazily.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class SandboxClock:
    def __init__(self, start: datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        self._lock = threading.Lock()
        self._start = start.astimezone(timezone.utc)
        self._mono0 = time.monotonic()
        self._jumped = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=time.monotonic() - self._mono0) + self._jumped

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._jumped += delta
        return self.now()

    def jump_to(self, when: datetime) -> datetime:
        current = self.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        if when < current:
            raise ValueError("the sandbox clock only moves forward")
        return self.advance(when - current)
