"""Assertions shared by the MGI acceptance tests (plan shape, contracts section 2)."""

from __future__ import annotations

from tests.mgi.harness import PlanView

HANDOFF = "handoff-mgi-fastqs"


def assert_well_formed(plan: PlanView) -> None:
    """Every action has the contract's fields, a reason, known dependencies; the summary adds up."""
    assert plan.doc["format_version"] == "1"
    counts: dict[str, int] = {}
    for a in plan.actions:
        for key in ("id", "policy", "group", "action", "resource", "params", "reason", "fingerprint", "depends_on"):
            assert key in a, f"action without {key}: {a}"
        assert a["group"] == "mgi"
        assert isinstance(a["reason"], str) and a["reason"].strip(), f"action without a reason: {a}"
        assert a["resource"].get("kind") and a["resource"].get("id"), a
        for dep in a["depends_on"]:
            assert dep in plan.by_id, f"{a['action']} {a['resource']['id']} depends on {dep}, not in the plan"
        counts[a["action"]] = counts.get(a["action"], 0) + 1
    assert len(plan.by_id) == len(plan.actions), "duplicate action ids"
    assert {k: v for k, v in plan.doc["summary"].items() if v} == counts


def lifecycle(plan: PlanView) -> list[tuple[str, str, str, str | None]]:
    """(policy, action, resource id, params.then) of every non-hand-off action, sorted."""
    return sorted((a["policy"], a["action"], a["resource"]["id"], (a.get("params") or {}).get("then"))
                  for a in plan.actions if a["policy"] != HANDOFF)
