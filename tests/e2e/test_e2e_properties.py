"""Properties of plan and apply over generated worlds and MGI variable settings (real sandbox, HTTP).

One sandbox serves the module; each example loads a freshly generated world into it. Kept small
(few examples, small worlds) so the module runs in seconds.
"""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from e2e_helpers import MGI, sandbox_clients, swap_world
from orch.engine.applier import Applier
from orch.engine.context import PlanContext, run_folder
from orch.engine.executors import ApplyContext
from orch.engine.ledger import Ledger
from orch.engine.planner import build_plan, evaluate
from orch.inventory import IcaAnalysis
from orch.policy.loader import load_policies
from orch.sandbox.generate import generate_world


scenario = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "analyses": st.integers(4, 10),
    "archive": st.integers(20, 80),
    "gap": st.integers(1, 60),
    "handoff": st.integers(5, 90),
    "bssh_runs": st.sampled_from(["source", "all"]),
    "empty_trash": st.booleans(),
    "shift_days": st.integers(-5, 30),
})


def variables(s: dict) -> dict[str, str]:
    return {"days_to_archive": str(s["archive"]), "days_to_delete": str(s["archive"] + s["gap"]),
            "handoff_max_age_days": str(s["handoff"]), "bssh_runs": s["bssh_runs"],
            "empty_trash": "true" if s["empty_trash"] else "false"}


def make_plan(sandbox, policies, ledger, now):
    ica, bssh = sandbox_clients(sandbox)
    return build_plan(policies, PlanContext(ica, bssh, ledger, now)).plan, (ica, bssh)


@settings(max_examples=int(__import__("os").environ.get("HYP_E2E", "6")), deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking:
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # each example is I/O
@example(s={"seed": 0, "analyses": 8, "archive": 60, "gap": 30, "handoff": 60, "bssh_runs": "source",
             "empty_trash": True, "shift_days": 0})  # the MGI defaults on a world with every action kind
@given(s=scenario)
def test_plan_apply_plan(sb, s, tmp_path_factory):
    world = generate_world(analyses=s["analyses"], files_per_analysis=8, bssh_fraction=0.5, seed=s["seed"])
    swap_world(sb, world)
    policies = load_policies([MGI], variables(s))
    days_to_delete = timedelta(days=s["archive"] + s["gap"])
    ledger = Ledger(str(tmp_path_factory.mktemp("ledger") / "state.db"))
    now = sb.world.now + timedelta(days=s["shift_days"])

    plan, (ica, bssh) = make_plan(sb, policies, ledger, now)
    assert plan.errors == []
    # deterministic: a second, independent planning gives the same plan
    again, _ = make_plan(sb, policies, ledger, now)
    strip = lambda p: json.dumps({k: v for k, v in p.to_dict().items() if k != "created_at"}, sort_keys=True)  # noqa
    assert strip(plan) == strip(again)

    by_name = {p.name: p for p in policies.policies}
    ctx = PlanContext(*sandbox_clients(sb), ledger, now)
    analyses = {a.id: a for a in ctx.analyses(ctx.project("ken_debug").id)}
    for a in plan.actions:
        policy = by_name[a.policy]
        r = a.resource
        # no action touches a resource its policy's matchers reject
        if r.kind == "ica.data" and a.action == "link":
            f = ica.get_data(r.project_id, r.id)
            assert evaluate(policy.for_each.filters, f, ctx), (a.policy, r.path)
        elif r.kind == "ica.analysis":
            assert evaluate(policy.filters, analyses[r.id], ctx), (a.policy, r.id)
        elif r.kind == "ica.data":
            assert evaluate(policy.filters, ica.get_data(r.project_id, r.id), ctx)
        elif r.kind == "bssh.dataset":
            assert evaluate(policy.filters, bssh.get_dataset(r.id), ctx)
        elif r.kind == "bssh.run":
            assert evaluate(policy.filters, bssh.get_run(r.id), ctx)
        # nothing younger than the delete age is deleted (or unarchived to be deleted)
        if a.destructive and r.kind in ("bssh.dataset", "bssh.run"):
            obj = bssh.get_dataset(r.id) if r.kind == "bssh.dataset" else bssh.get_run(r.id)
            assert now - obj.date_created > days_to_delete, (a.policy, r.name)
        if a.destructive and r.kind == "ica.data":
            owners = [x for x in analyses.values() if _output(ctx, x) == r.path]
            assert owners and all(now - x.start_date > days_to_delete for x in owners), r.path
        if a.destructive and r.kind == "bssh.run" and s["bssh_runs"] == "source":
            assert r.name in {run_folder(x.user_reference) for x in analyses.values()}

    report = Applier(ApplyContext(ica, bssh, ledger, now),
                     allows={p.name: p.allow_destructive for p in policies.policies}).apply(plan)
    assert report.exit_code == 0, report.to_dict()
    after, _ = make_plan(sb, policies, ledger, now)
    # archive/unarchive/delete are asynchronous on the platforms and in transit now: nothing is left
    assert [(x.action, x.resource.id) for x in after.actions] == [] and after.errors == []
    ledger.close()


def test_the_example_world_exercises_the_actions(sb, tmp_path):
    """The property's @example world is not vacuous: the MGI defaults plan every kind of decision on it
    (self-contained: it plans that world itself, whatever other tests ran)."""
    swap_world(sb, generate_world(analyses=8, files_per_analysis=8, bssh_fraction=0.5, seed=0))
    s = {"archive": 60, "gap": 30, "handoff": 60, "bssh_runs": "source", "empty_trash": True}
    ledger = Ledger(str(tmp_path / "state.db"))
    plan, _ = make_plan(sb, load_policies([MGI], variables(s)), ledger, sb.world.now)
    ledger.close()
    assert {"link", "manifest", "mark_managed", "archive", "delete"} <= {a.action for a in plan.actions}


def _output(ctx: PlanContext, a: IcaAnalysis) -> str | None:
    folder = ctx.output_folder(a)
    return folder.path if folder else None
