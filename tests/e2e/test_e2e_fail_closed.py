"""Fail closed under platform faults (real sandbox, real HTTP, injected 500/503s and resets).

Reads that fail after the retries may only ever take actions away from a plan, never add one,
and a policy whose read failed is reported (exit 1).
"""

from __future__ import annotations

import pytest

from e2e_helpers import MGI, NOW, every_kind_world
from orch.connectors.basespace import BasespaceClient
from orch.connectors.http import HttpConfig
from orch.connectors.ica import IcaClient
from orch.engine.context import PlanContext
from orch.engine.ledger import Ledger
from orch.engine.planner import build_plan
from orch.policy.loader import load_policies

FAST = HttpConfig(retries=1, backoff_factor=0.0, backoff_jitter=0.0, backoff_max=0.0, connect_timeout=2,
                  read_timeout=5)


def plan_of(sandbox, http: HttpConfig | None = None):
    world = sandbox.world
    ica = IcaClient(sandbox.ica_url, world.api_key, http=http, concurrency=4)
    bssh = BasespaceClient(sandbox.basespace_url, world.access_token, http=http)
    policies = load_policies([MGI], {"empty_trash": "true"})
    return build_plan(policies, PlanContext(ica, bssh, Ledger(":memory:"), NOW)).plan


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_faults_only_remove_actions(make_sandbox, seed):
    clean = plan_of(make_sandbox(every_kind_world()))
    assert clean.errors == [] and clean.destructive_actions
    faulty = plan_of(make_sandbox(every_kind_world(), error_rate=0.35, seed=seed), FAST)
    clean_ids = {a.id for a in clean.actions}
    extra = [(a.policy, a.action, a.resource.id) for a in faulty.actions if a.id not in clean_ids]
    assert extra == [], extra
    if len(faulty.actions) < len(clean.actions):
        assert faulty.errors, "actions went missing without an error in the plan"
        assert faulty.exit_code() == 1
