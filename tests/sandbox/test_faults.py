"""FaultInjector: latency, 500/503, 429 + Retry-After, connection resets, seeding, thread safety."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.test import Client

from orch.sandbox.faults import FaultInjector, InjectedConnectionReset


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def statuses(injector, n, path="/ica/rest/api/projects"):
    client = Client(injector)
    return [client.get(path).status_code for _ in range(n)]


def test_no_faults_passes_everything_through():
    assert statuses(FaultInjector(ok_app), 50) == [200] * 50


def test_error_rate_gives_500_and_503_in_about_the_right_fraction():
    codes = statuses(FaultInjector(ok_app, error_rate=0.3, seed=7), 2000)
    errors = [c for c in codes if c != 200]
    assert set(errors) == {500, 503}
    assert 0.25 < len(errors) / len(codes) < 0.35
    assert set(codes) <= {200, 500, 503}


def test_error_rate_one_faults_every_request_and_zero_none():
    assert set(statuses(FaultInjector(ok_app, error_rate=1.0), 100)) <= {500, 503}
    assert set(statuses(FaultInjector(ok_app, error_rate=0.0, latency_ms=0.001, sleep=lambda s: None), 100)) == {200}


def test_same_seed_same_faults_different_seed_different():
    a = statuses(FaultInjector(ok_app, error_rate=0.5, seed=42), 200)
    b = statuses(FaultInjector(ok_app, error_rate=0.5, seed=42), 200)
    c = statuses(FaultInjector(ok_app, error_rate=0.5, seed=43), 200)
    assert a == b
    assert a != c


def test_ica_error_is_a_problem_json():
    resp = Client(FaultInjector(ok_app, error_rate=1.0)).get("/ica/rest/api/projects/x/data")
    assert resp.status_code in (500, 503)
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == resp.status_code
    assert {"type", "title", "status", "timestamp", "parameters"} <= body.keys()


def test_basespace_error_is_a_v2error():
    resp = Client(FaultInjector(ok_app, error_rate=1.0)).get("/basespace/v2/datasets")
    body = resp.get_json(force=True)
    assert set(body) == {"ErrorCode", "ErrorMessage", "RequestId", "AdditionalData"}
    assert body["ErrorCode"] in ("InternalServerError", "ServiceUnavailable")


def test_control_endpoints_are_never_faulted():
    injector = FaultInjector(ok_app, error_rate=1.0, reset_rate=1.0, rate_limit=0.001)
    assert statuses(injector, 20, "/_sandbox/state") == [200] * 20
    assert injector.stats.requests == 0


def test_rate_limit_token_bucket_answers_429_with_retry_after():
    clock = FakeClock()
    injector = FaultInjector(ok_app, rate_limit=2, clock=clock)
    client = Client(injector)
    # burst of 2, then refused
    assert [client.get("/ica/rest/api/projects").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/ica/rest/api/projects")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.get_json(force=True)["status"] == 429
    clock.t += 0.5  # one token back at 2 RPS
    assert client.get("/ica/rest/api/projects").status_code == 200
    assert client.get("/basespace/v2/runs").status_code == 429
    clock.t += 1.0
    assert [client.get("/ica/rest/api/projects").status_code for _ in range(3)] == [200, 200, 429]
    assert injector.stats.rate_limited == 3


def test_slow_rate_limit_retry_after_is_whole_seconds_until_a_token():
    clock = FakeClock()
    client = Client(FaultInjector(ok_app, rate_limit=0.1, clock=clock))
    assert client.get("/x").status_code == 200
    resp = client.get("/x")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "10"


def test_latency_is_applied_per_faultable_request():
    slept: list[float] = []
    injector = FaultInjector(ok_app, latency_ms=250, sleep=slept.append)
    statuses(injector, 3)
    statuses(injector, 2, "/_sandbox/clock")
    assert slept == [0.25, 0.25, 0.25]


def test_reset_raises_in_test_client():
    with pytest.raises(InjectedConnectionReset):
        Client(FaultInjector(ok_app, reset_rate=1.0)).get("/ica/rest/api/projects")


def test_bad_parameters_are_refused():
    for kwargs in ({"error_rate": 1.5}, {"reset_rate": -0.1}, {"latency_ms": -1}, {"rate_limit": -2}):
        with pytest.raises(ValueError):
            FaultInjector(ok_app, **kwargs)


def test_thread_safe_counts_under_concurrency():
    injector = FaultInjector(ok_app, error_rate=0.5, seed=3)
    sequential = statuses(FaultInjector(ok_app, error_rate=0.5, seed=3), 400)

    def one(_):
        return Client(injector).get("/ica/rest/api/projects").status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(400)))
    # same multiset of outcomes as the sequential run with the same seed (order may interleave)
    assert sorted(codes) == sorted(sequential)
    assert injector.stats.requests == 400
    assert sum(injector.stats.errors.values()) == sum(c != 200 for c in codes)


# ------------------------------------------------------------------ over a real werkzeug server
@pytest.fixture
def serve():
    servers = []

    def start(injector):
        srv = make_server("127.0.0.1", 0, injector, threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_port}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_real_server_connection_reset_is_a_client_connection_error(serve):
    base = serve(FaultInjector(ok_app, reset_rate=1.0))
    with requests.Session() as s:
        for _ in range(3):  # also on a kept-alive session: must not hang
            with pytest.raises(requests.ConnectionError):
                s.get(base + "/ica/rest/api/projects", timeout=5)
            with pytest.raises(requests.ConnectionError):
                s.post(base + "/basespace/v2/archive", json={"DatasetIds": ["ds.1"]}, timeout=5)
        assert s.get(base + "/_sandbox/state", timeout=5).status_code == 200


def test_real_server_mixed_faults_repeatable(serve):
    def run(seed):
        base = serve(FaultInjector(ok_app, error_rate=0.3, reset_rate=0.2, seed=seed))
        out = []
        with requests.Session() as s:
            for _ in range(60):
                try:
                    out.append(s.get(base + "/ica/rest/api/projects", timeout=5).status_code)
                except requests.ConnectionError:
                    out.append("reset")
        return out

    a, b = run(11), run(11)
    assert a == b
    assert {"reset", 200} <= set(a) and (500 in a or 503 in a)


def test_real_server_429_carries_retry_after(serve):
    base = serve(FaultInjector(ok_app, rate_limit=1))
    with requests.Session() as s:
        codes = [s.get(base + "/ica/rest/api/projects", timeout=5) for _ in range(5)]
    refused = [r for r in codes if r.status_code == 429]
    assert refused, "5 immediate requests at 1 RPS must be limited"
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    assert refused[0].headers["Content-Type"] == "application/problem+json"
