"""Fault injection for the sandbox: latency, 500/503 errors, 429 rate limiting, connection resets.

``FaultInjector`` is WSGI middleware wrapped around the whole sandbox app so that the connectors'
retries and the engine's fail-closed rules can be exercised. Control endpoints (``/_sandbox/...``)
are never faulted. Errors look like the platform's own: ICA routes get an
``application/problem+json`` Problem, BaseSpace routes (``/basespace...``) a ``V2Error``.

Repeatability: every faultable request draws the same three numbers from one seeded generator,
whatever the outcome, so the same seed and the same request sequence give the same faults.
The rate limiter is a token bucket on a monotonic clock (time-based by nature, not seeded).
"""

from __future__ import annotations

import json
import math
import random
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

CONTROL_PREFIX = "/_sandbox/"
BASESPACE_PREFIX = "/basespace"

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class InjectedConnectionReset(ConnectionResetError):
    """Raised to drop a connection without a response (werkzeug's server treats it as a dropped
    connection: no 500 page is written, the socket is closed)."""


@dataclass
class FaultStats:
    """How many requests got each fault (counted since the injector was created)."""

    requests: int = 0
    delayed: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    rate_limited: int = 0
    resets: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "delayed": self.delayed,
                "errors": {str(k): v for k, v in sorted(self.errors.items())},
                "rate_limited": self.rate_limited, "resets": self.resets}


@dataclass(frozen=True)
class _Decision:
    kind: str  # "pass" | "error" | "rate_limited" | "reset"
    status: int = 200
    retry_after: int = 0


class _TokenBucket:
    """``rate`` tokens per second, burst ``max(1, rate)``; a request takes one token."""

    def __init__(self, rate: float, clock: Callable[[], float]):
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.last = clock()

    def take(self) -> float:
        """Take a token; return 0 on success, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class FaultInjector:
    """WSGI middleware injecting faults into ``app``.

    - ``latency_ms``: added to every faultable request.
    - ``error_rate``: fraction answered 500 or 503 (half each, seeded).
    - ``rate_limit``: requests per second (token bucket, burst = max(1, rate)); beyond it 429 with
      ``Retry-After`` in whole seconds (at least 1). 0 = unlimited.
    - ``reset_rate``: fraction whose connection is dropped without any response.
    - ``seed``: same seed + same request sequence -> same faults.
    """

    def __init__(self, app: WSGIApp, *, latency_ms: float = 0, error_rate: float = 0.0,
                 rate_limit: float = 0.0, seed: int = 0, reset_rate: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        for name, value in (("error_rate", error_rate), ("reset_rate", reset_rate)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if latency_ms < 0:
            raise ValueError(f"latency_ms must not be negative, got {latency_ms}")
        if rate_limit < 0:
            raise ValueError(f"rate_limit must not be negative, got {rate_limit}")
        self.app = app
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.rate_limit = rate_limit
        self.reset_rate = reset_rate
        self.seed = seed
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._bucket = _TokenBucket(rate_limit, clock) if rate_limit > 0 else None
        self.stats = FaultStats()

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.error_rate or self.rate_limit or self.reset_rate)

    # ------------------------------------------------------------------ decisions
    def _decide(self) -> _Decision:
        with self._lock:
            self.stats.requests += 1
            # Always three draws per request, so the sequence never depends on earlier outcomes.
            r_reset, r_error, r_status = self._rng.random(), self._rng.random(), self._rng.random()
            if self._bucket is not None:
                wait = self._bucket.take()
                if wait > 0:
                    self.stats.rate_limited += 1
                    return _Decision("rate_limited", 429, max(1, math.ceil(wait)))
            if r_reset < self.reset_rate:
                self.stats.resets += 1
                return _Decision("reset")
            if r_error < self.error_rate:
                status = 500 if r_status < 0.5 else 503
                self.stats.errors[status] = self.stats.errors.get(status, 0) + 1
                return _Decision("error", status)
            return _Decision("pass")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/") or not self.active:
            return self.app(environ, start_response)
        if self.latency_ms:
            with self._lock:
                self.stats.delayed += 1
            self._sleep(self.latency_ms / 1000.0)
        decision = self._decide()
        if decision.kind == "pass":
            return self.app(environ, start_response)
        if decision.kind == "reset":
            _drop_connection(environ)
            raise InjectedConnectionReset("sandbox fault injection: connection reset")
        return _error_response(environ, start_response, decision)


# ---------------------------------------------------------------------- responses
_TITLES = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
_BSSH_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}


def _error_response(environ: dict, start_response: Callable, decision: _Decision) -> list[bytes]:
    status = decision.status
    title = _TITLES[status]
    detail = ("Rate limit exceeded; retry later." if status == 429
              else "Injected by the sandbox fault injector.")
    path = environ.get("PATH_INFO", "")
    if path.startswith(BASESPACE_PREFIX):
        body: dict[str, Any] = {"ErrorCode": _BSSH_CODES[status], "ErrorMessage": detail,
                                "RequestId": str(uuid.uuid4()), "AdditionalData": {}}
        content_type = "application/json; charset=utf-8"
    else:
        body = {"id": str(uuid.uuid4()), "type": "about:blank", "title": title, "status": status,
                "detail": detail, "instance": path, "parameters": {},
                "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        content_type = "application/problem+json"
    payload = json.dumps(body).encode()
    headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    if status == 429:
        headers.append(("Retry-After", str(decision.retry_after)))
    start_response(f"{status} {title}", headers)
    return [payload]


def _drop_connection(environ: dict) -> None:
    """Abort the client socket when the server exposes it (werkzeug puts it in the environ).

    SO_LINGER 0 makes the final close send a RST; shutting down both directions ends werkzeug's
    keep-alive loop at once (otherwise it would wait for another request on this connection).
    """
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
