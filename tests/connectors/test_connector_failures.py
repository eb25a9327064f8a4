"""Retries under the sandbox's faults, clear errors, and secrets kept out of every failure."""

from __future__ import annotations

import logging
import socket

import pytest

from connector_helpers import SOURCE, bs_client, counts, ica_client, reset_counts
from orch.connectors.basespace import BasespaceClient
from orch.connectors.http import HttpConfig
from orch.connectors.ica import IcaClient
from orch.errors import ApiError, AuthError, NotFound

SECRETS = ("test-key", "test-token", "wrong-key-5678", "wrong-token-5678")


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret!r} leaked into: {text[:300]}"


def test_calls_succeed_under_error_rate_and_retries_show_in_request_counts(make_sandbox):
    sb = make_sandbox(error_rate=0.3, seed=7)
    ica, bs = ica_client(sb), bs_client(sb)
    reset_counts(sb)
    calls = 0
    for _ in range(10):
        ica.clear_cache()
        bs.clear_cache()
        assert ica.find_project("ken_debug").id == SOURCE
        assert len(list(bs.list_runs())) == 2
        calls += 2
    retries = ica.http.budget.used + bs.http.budget.used
    injected = sb.wsgi_app.stats  # the sandbox's fault injector saw every attempt
    assert retries > 0 and sum(injected.errors.values()) == retries
    assert injected.requests == calls + retries
    # /_sandbox/requests counts what reached the emulated API (faulted attempts may or may not be in it)
    assert counts(sb)["total"] in (calls, calls + retries)


def test_calls_succeed_under_rate_limit(make_sandbox):
    sb = make_sandbox(rate_limit=20)
    ica = ica_client(sb)
    reset_counts(sb)
    for _ in range(40):
        ica.clear_cache()
        ica.get_project(SOURCE)
    assert ica.http.budget.used > 0 and sb.wsgi_app.stats.rate_limited == ica.http.budget.used
    assert sb.wsgi_app.stats.requests == 40 + ica.http.budget.used


def test_server_errors_after_retries_are_one_clear_error(make_sandbox, caplog):
    sb = make_sandbox(error_rate=1.0, seed=1)
    ica = ica_client(sb, http=HttpConfig(retries=3, backoff_factor=0.01, backoff_max=0.02, backoff_jitter=0))
    reset_counts(sb)
    with caplog.at_level(logging.DEBUG), pytest.raises(ApiError) as exc:
        ica.get_project(SOURCE)
    msg = str(exc.value)
    assert msg.startswith("ICA GET /api/projects/{projectId} failed: HTTP 5") and "gave up after 3 retries" in msg
    assert sb.wsgi_app.stats.requests == 4  # one call, three retries
    assert_no_secret(msg, caplog.text, repr(ica), repr(exc.value.__dict__))


def test_retry_budget_bounds_a_whole_run(make_sandbox):
    sb = make_sandbox(error_rate=1.0, seed=2)
    ica = ica_client(sb, http=HttpConfig(retries=3, retry_budget=5, backoff_factor=0.001, backoff_jitter=0))
    for _ in range(3):
        with pytest.raises(ApiError):
            ica.clear_cache()
            ica.get_project(SOURCE)
    assert ica.http.budget.used == 5  # 3 + 2, then no more retries at all
    before = sb.wsgi_app.stats.requests
    with pytest.raises(ApiError):
        ica.clear_cache()
        ica.get_project(SOURCE)
    assert sb.wsgi_app.stats.requests == before + 1


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused(caplog):
    url = f"http://127.0.0.1:{_closed_port()}"
    cfg = HttpConfig(retries=2, backoff_factor=0.001, backoff_jitter=0)
    ica = IcaClient(url + "/ica/rest", "test-key", http=cfg)
    bs = BasespaceClient(url + "/basespace", "test-token", http=cfg)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ApiError) as e1:
            ica.find_project("ken_debug")
        with pytest.raises(ApiError) as e2:
            list(bs.list_projects())
    assert str(e1.value) == f"ICA GET /api/projects failed: connection failed (connection refused by 127.0.0.1:{url.rsplit(':', 1)[1]})"
    assert e2.value.status is None and "BaseSpace GET /v1pre3/users/current/projects" in str(e2.value)
    assert_no_secret(str(e1.value), str(e2.value), caplog.text, repr(ica), repr(bs), repr(ica.http.session.headers))


def test_wrong_key_and_404_without_secrets_in_logs_or_errors(sandbox, caplog):
    bad = ica_client(sandbox, key="wrong-key-5678")
    good = ica_client(sandbox)
    bs = bs_client(sandbox, token="wrong-token-5678")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthError) as e1:
            bad.find_project("ken_debug")
        with pytest.raises(NotFound) as e2:
            good.get_data(SOURCE, "fil.0000000000000000000000000000dead")
        with pytest.raises(AuthError) as e3:
            bs.get_run("2001")
        # a download URL carries its own token: it must not show either
        notes = list(good.list_data(SOURCE, full_path="/scratch/notes.txt"))[0]
        good.read_bytes(SOURCE, notes.id)
    assert str(e1.value).startswith("ICA GET /api/projects failed: HTTP 401")
    assert str(e2.value).startswith("ICA GET /api/projects/{projectId}/data/{dataId} failed: HTTP 404")
    assert str(e3.value).startswith("BaseSpace GET /v2/runs/{id} failed: HTTP 401")
    assert "ICA GET /api/projects/{projectId}/data/{dataId} -> 404" in caplog.text  # logging did happen
    assert sandbox.file_token(notes.id, "get") not in caplog.text
    assert_no_secret(str(e1.value), str(e2.value), str(e3.value), caplog.text, repr(bad), repr(bs))


def test_upload_keeps_temporary_credentials_out_of_logs(sandbox, caplog):
    ica = ica_client(sandbox)
    with caplog.at_level(logging.DEBUG):
        f = ica.create_file("0d6f0000-0000-4000-8000-000000000002", "/m/", "a.csv")
        ica.upload_bytes("0d6f0000-0000-4000-8000-000000000002", f.id, b"x,y\n")
    from orch.connectors import redact

    creds = [s for s in redact._secrets if s not in SECRETS]
    assert creds, "the temporary credentials were registered"
    assert any(r.name.startswith("botocore") for r in caplog.records)  # botocore did log at DEBUG
    for secret in creds:
        assert secret not in caplog.text
