"""Per-run memo of platform reads, and a bounded concurrent map for independent reads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Hashable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class RunCache:
    """Memoises reads for one run so nothing is fetched twice.

    Thread-safe; concurrent requests for the same key wait for one fetch. Clients clear
    it after any write, so a re-read after an action sees the platform's new state.
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, fetch: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self.hits += 1
                return self._values[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    self.hits += 1
                    return self._values[key]
            value = fetch()
            with self._lock:
                self._values[key] = value
                self.misses += 1
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._locks.clear()


def map_concurrent(fn: Callable[[T], R], items: Iterable[T], concurrency: int = 8) -> list[R]:
    """``[fn(x) for x in items]`` on at most ``concurrency`` threads, results in input order.

    The first exception (in input order) is raised once every call has finished, so no
    call is left running behind the caller's back.
    """
    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="orch-io") as pool:
        futures = [pool.submit(fn, x) for x in items]
    return [f.result() for f in futures]
