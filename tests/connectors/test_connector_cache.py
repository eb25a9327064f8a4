"""The run cache and the bounded concurrent map."""

from __future__ import annotations

import threading
import time

import pytest

from orch.connectors.cache import RunCache, map_concurrent


def test_map_concurrent_is_bounded_and_ordered():
    lock, active, peak = threading.Lock(), [0], [0]

    def work(x: int) -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return x * x

    assert map_concurrent(work, range(20), concurrency=3) == [x * x for x in range(20)]
    assert 1 < peak[0] <= 3


def test_map_concurrent_raises_the_first_error_after_all_calls_finished():
    done = []

    def work(x: int) -> int:
        time.sleep(0.01)
        done.append(x)
        if x in (2, 5):
            raise ValueError(f"bad {x}")
        return x

    with pytest.raises(ValueError, match="bad 2"):
        map_concurrent(work, range(8), concurrency=4)
    assert sorted(done) == list(range(8))


def test_run_cache_fetches_each_key_once_even_concurrently():
    cache, calls = RunCache(), []

    def fetch() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "value"

    results = map_concurrent(lambda _: cache.get("k", fetch), range(6), concurrency=6)
    assert results == ["value"] * 6 and len(calls) == 1
    cache.clear()
    assert cache.get("k", fetch) == "value" and len(calls) == 2
