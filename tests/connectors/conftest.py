"""Connector fixtures: ICA and BaseSpace clients on the sandbox fixture."""

from __future__ import annotations

import pytest

from connector_helpers import bs_client, ica_client
from orch.connectors.basespace import BasespaceClient
from orch.connectors.ica import IcaClient


@pytest.fixture
def ica(sandbox) -> IcaClient:
    return ica_client(sandbox)


@pytest.fixture
def bs(sandbox) -> BasespaceClient:
    return bs_client(sandbox)
