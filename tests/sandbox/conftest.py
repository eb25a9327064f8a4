"""Fixtures shared by the sandbox tests."""

from __future__ import annotations

import pytest
from libica.openapi.v2 import ApiClient, Configuration


@pytest.fixture
def client(sandbox):
    """The official libica client against the ``sandbox`` fixture's ICA (key ``test-key``)."""
    config = Configuration(host=sandbox.ica_url)
    config.api_key["ApiKeyAuth"] = "test-key"
    with ApiClient(config) as api_client:
        yield api_client
