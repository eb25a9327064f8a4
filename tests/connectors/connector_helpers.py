"""Helpers for connector tests: clients wired to a sandbox with fast retry timings."""

from __future__ import annotations

from typing import Any

import requests

from orch.connectors.basespace import BasespaceClient
from orch.connectors.http import HttpConfig
from orch.connectors.ica import IcaClient

ICA_KEY = "test-key"
BS_TOKEN = "test-token"
SOURCE = "0d6f0000-0000-4000-8000-000000000001"  # ken_debug in SMALL_WORLD
DEST = "0d6f0000-0000-4000-8000-000000000002"  # Ken_demos

FAST = HttpConfig(connect_timeout=2, read_timeout=10, retries=6, backoff_factor=0.01, backoff_max=0.05,
                  backoff_jitter=0.01, max_retry_after=0.3)


def ica_client(sb, key: str = ICA_KEY, **kw: Any) -> IcaClient:
    kw.setdefault("http", FAST)
    kw.setdefault("link_poll", (0.05, 0.2))
    kw.setdefault("link_timeout", 10.0)
    return IcaClient(sb.ica_url, key, s3_endpoint_url=sb.s3_endpoint_url, **kw)


def bs_client(sb, token: str = BS_TOKEN, **kw: Any) -> BasespaceClient:
    kw.setdefault("http", FAST)
    return BasespaceClient(sb.basespace_url, token, **kw)


def counts(sb) -> dict[str, Any]:
    return requests.get(sb.control_url + "/requests", timeout=5).json()


def reset_counts(sb) -> None:
    requests.post(sb.control_url + "/requests:reset", timeout=5).raise_for_status()


def state(sb) -> dict[str, Any]:
    return requests.get(sb.control_url + "/state", timeout=5).json()


