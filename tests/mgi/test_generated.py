"""The MGI pack on generated, realistic worlds agrees action for action with an independent reading
of contracts section 4 (tests/mgi/oracle.py), for several seeds and variable settings."""

from __future__ import annotations

import pytest

from orch.sandbox.generate import generate_world
from tests.mgi.checks import assert_well_formed
from tests.mgi.oracle import Vars, actual_actions, expected_actions
from tests.mgi.worlds import ACCESS_TOKEN, API_KEY, NOW

SETTINGS = {
    "defaults": Vars(),
    "all-runs-and-trash": Vars(bssh_runs="all", empty_trash=True),
    "short-windows": Vars(days_to_archive=30, days_to_delete=45, handoff_max_age_days=400, mgi_name_regex="^M_"),
}


@pytest.mark.parametrize("seed", [1, 7])
def test_plan_matches_the_contract_on_a_generated_world(make_orch, seed):
    world = generate_world(analyses=24, files_per_analysis=16, seed=seed, now=NOW)
    world["timing"]["link_batch"] = "0s"
    world["ica"]["api_key"], world["basespace"]["access_token"] = API_KEY, ACCESS_TOKEN
    orch = make_orch(world)
    state = orch.state().doc
    for name, v in SETTINGS.items():
        plan = orch.plan(*v.cli())
        assert_well_formed(plan)
        expected, actual = expected_actions(state, NOW, v), actual_actions(plan.doc)
        assert len(expected) > 10
        missing, extra = sorted(expected - actual, key=str), sorted(actual - expected, key=str)
        assert not missing and not extra, f"{name}: missing {missing}\nextra {extra}"


def test_second_run_matches_the_contract_after_apply(make_orch):
    """After an apply (hand-offs recorded, archive work in flight), the next plan is again exactly
    what section 4 says for the new state and ledger."""
    world = generate_world(analyses=16, files_per_analysis=12, seed=3, now=NOW)
    world["timing"]["link_batch"] = "0s"
    world["ica"]["api_key"], world["basespace"]["access_token"] = API_KEY, ACCESS_TOKEN
    orch = make_orch(world)
    v = Vars(empty_trash=True)
    orch.apply(*v.cli())
    managed = {line.split(",")[0] for line in orch.ledger_export().splitlines()[1:]}
    assert managed
    for advance in ("1m", "361m"):  # while the platforms work, then after unarchives completed
        orch.advance(advance)
        state = orch.state().doc
        plan = orch.plan(*v.cli())
        expected, actual = expected_actions(state, orch.now, v, managed), actual_actions(plan.doc)
        missing, extra = sorted(expected - actual, key=str), sorted(actual - expected, key=str)
        assert not missing and not extra, f"after {advance}: missing {missing}\nextra {extra}"
    assert any(a == "delete" for _, a, _, _ in expected)  # the two-phase deletes come due
