"""The plan model: ids, fingerprints, order, JSON, schema and loading."""

import json
import random
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orch.engine.plan import (
    ActionResult, ApplyReport, Outcome, Plan, PlanError, PlanIssue, PlannedAction, PolicyFileRef,
    action_id, fingerprint, is_destructive, plan_schema, sort_actions,
)
from orch.errors import ConfigError, OrchError
from orch.inventory import IcaData
from plan_samples import NOW, sample_actions, sample_plan

ROOT = Path(__file__).resolve().parents[2]


def test_action_id_is_stable_and_sensitive_to_every_input():
    base = action_id("p", "link", "ica.data", "fil.1", {"to": "x", "b": 1})
    assert base == action_id("p", "link", "ica.data", "fil.1", {"b": 1, "to": "x"})  # key order irrelevant
    assert len(base) == 16 and int(base, 16) >= 0
    others = {action_id("q", "link", "ica.data", "fil.1", {"to": "x", "b": 1}),
              action_id("p", "archive", "ica.data", "fil.1", {"to": "x", "b": 1}),
              action_id("p", "link", "ica.analysis", "fil.1", {"to": "x", "b": 1}),
              action_id("p", "link", "ica.data", "fil.2", {"to": "x", "b": 1}),
              action_id("p", "link", "ica.data", "fil.1", {"to": "y", "b": 1})}
    assert base not in others and len(others) == 5


def test_fingerprint_changes_with_any_used_field():
    fp = fingerprint({"status": "AVAILABLE", "timeCreated": "2026-01-01T00:00:00Z"})
    assert fp == fingerprint({"timeCreated": "2026-01-01T00:00:00Z", "status": "AVAILABLE"})
    assert fp != fingerprint({"status": "ARCHIVED", "timeCreated": "2026-01-01T00:00:00Z"})
    assert fp != fingerprint({"status": "AVAILABLE"})


def test_decision_fingerprint_reads_inventory_fields():
    from orch.engine.fingerprint import decision_fingerprint

    d = IcaData(id="fil.1", project_id="p", owning_project_id="p", name="a.fastq.gz", path="/a.fastq.gz",
                data_type="FILE", status="AVAILABLE", time_created=NOW)
    before = decision_fingerprint(d, ["status", "name"])
    assert decision_fingerprint(d, ["name", "status"]) == before  # the order of the fields does not matter
    d.status = "ARCHIVED"
    assert decision_fingerprint(d, ["name", "status"]) != before


def test_dependencies_come_first_and_order_is_stated():
    plan = sample_plan()
    order = [a.id for a in plan.actions]
    for i, a in enumerate(plan.actions):
        assert all(order.index(d) < i for d in a.depends_on)
    assert [(a.policy, a.action) for a in plan.actions] == [
        ("delete-basespace-datasets", "delete"),
        ("delete-ica-outputs", "unarchive"),
        ("handoff-mgi-fastqs", "link"), ("handoff-mgi-fastqs", "link"),
        ("handoff-mgi-fastqs", "manifest"), ("handoff-mgi-fastqs", "mark_managed"),
    ]
    links = [a.resource.path for a in plan.actions if a.action == "link"]
    assert links == sorted(links)


def test_dependency_before_dependant_even_against_the_sort_key():
    # a purge in policy "a" depends on a delete in policy "z": the delete must still come first
    delete = PlannedAction.create("z", "g", "delete", {"kind": "bssh.run", "id": "1", "name": "r"})
    purge = PlannedAction.create("a", "g", "purge_trash", {"kind": "bssh.trash", "id": "trash", "name": "trash"},
                                 depends_on=[delete.id])
    assert [a.action for a in sort_actions([purge, delete])] == ["delete", "purge_trash"]


def test_inconsistent_plans_are_rejected():
    a = PlannedAction.create("p", "g", "link", {"kind": "ica.data", "id": "1", "name": "x"})
    with pytest.raises(PlanError, match="planned twice"):
        sort_actions([a, a])
    b = PlannedAction.create("p", "g", "manifest", {"kind": "ica.analysis", "id": "2", "name": "y"},
                             depends_on=["0" * 16])
    with pytest.raises(PlanError, match="not in the plan"):
        sort_actions([b])
    c = PlannedAction.create("p", "g", "link", {"kind": "ica.data", "id": "3", "name": "z"})
    d = PlannedAction.create("p", "g", "link", {"kind": "ica.data", "id": "4", "name": "w"}, depends_on=[c.id])
    c.depends_on = [d.id]
    with pytest.raises(PlanError, match="cycle"):
        sort_actions([c, d])


def test_summary_and_destructive():
    plan = sample_plan()
    assert plan.summary == {"link": 2, "manifest": 1, "mark_managed": 1, "unarchive": 1, "delete": 1}
    assert {a.action for a in plan.destructive_actions} == {"delete", "unarchive"}
    assert is_destructive("purge_trash") and is_destructive("delete")
    assert is_destructive("unarchive", {"then": "delete"}) and not is_destructive("unarchive", {})
    assert not is_destructive("archive")
    assert plan.exit_code(detailed=True) == 2 and plan.exit_code() == 0
    assert Plan.create(NOW).exit_code(detailed=True) == 0
    assert sample_plan(errors=[PlanIssue("p", "boom")]).exit_code(detailed=True) == 1


def test_json_validates_against_the_schema_and_round_trips(tmp_path):
    plan = sample_plan(errors=[PlanIssue("delete-ica-outputs", "ICA GET /data failed: HTTP 503")])
    data = json.loads(plan.to_json())
    jsonschema.Draft202012Validator(plan_schema()).validate(data)
    assert data["format_version"] == "1" and data["now"] == "2026-11-25T12:00:00Z"
    assert data["summary"]["link"] == 2
    assert data["actions"][0]["won_over"] == ["archive-basespace-datasets"]
    path = tmp_path / "plan.json"
    plan.save(path)
    again = Plan.load(path)
    assert again.to_json() == plan.to_json()
    assert again.actions[1].display_action() == "unarchive → delete"


def test_same_inputs_same_bytes_apart_from_created_at():
    one = sample_plan(created_at=NOW)
    actions = sample_actions()
    random.Random(7).shuffle(actions)
    two = Plan.create(NOW, actions, [PolicyFileRef("policies/mgi.yaml", "a" * 64)],
                      {"days_to_delete": 90, "source_project": "ken_debug"}, created_at=NOW + timedelta(hours=1))
    a, b = one.to_json(), two.to_json()
    assert a != b
    assert a.replace("2026-11-25T12:00:00Z", "X") == b.replace("2026-11-25T13:00:00Z", "X").replace(
        "2026-11-25T12:00:00Z", "X")


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_sort_is_stable_under_permutation(rnd):
    actions = sample_actions()
    expected = [a.id for a in sort_actions(actions)]
    rnd.shuffle(actions)
    assert [a.id for a in sort_actions(actions)] == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3"]),
                          st.sampled_from(["link", "archive", "delete", "tag"]),
                          st.text("abc/", min_size=1, max_size=4)), min_size=1, max_size=12, unique=True),
       st.randoms(use_true_random=False))
def test_generated_plans_sort_deterministically(specs, rnd):
    actions = [PlannedAction.create(p, "g", act, {"kind": "ica.data", "id": rid, "name": rid, "path": "/" + rid})
               for p, act, rid in specs]
    expected = [a.id for a in sort_actions(actions)]
    rnd.shuffle(actions)
    assert [a.id for a in sort_actions(actions)] == expected


@pytest.mark.parametrize("text, message", [
    ("not json", "invalid JSON"),
    ("[1, 2]", "not an orch plan file"),
    ('{"format_version": "1.2", "terraform_version": "1.9.0"}', "not an orch plan file"),
    ('{"format_version": "2", "orch_version": "9.0.0"}', "format_version '2'"),
    ('{"format_version": "1", "orch_version": "0.1.0", "actions": []}', "is not a valid orch plan"),
])
def test_bad_plan_files_give_one_line(tmp_path, text, message):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        Plan.load(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_tampered_action_is_rejected(tmp_path):
    data = json.loads(sample_plan().to_json())
    data["actions"][0]["action"] = "nuke"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="actions/0/action"):
        Plan.load(path)
    data["actions"][0]["action"] = "delete"
    data["actions"][0]["depends_on"] = ["f" * 16]
    path.write_text(json.dumps(data))
    with pytest.raises(OrchError, match="not in the plan"):
        Plan.load(path)


def test_edited_params_or_summary_are_rejected(tmp_path):
    path = tmp_path / "p.json"
    data = json.loads(sample_plan().to_json())
    link = next(a for a in data["actions"] if a["action"] == "link")
    link["params"]["to_project_id"] = "somewhere-else"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="does not match its policy, action, resource and params"):
        Plan.load(path)
    data = json.loads(sample_plan().to_json())
    data["summary"]["link"] = 7
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="summary does not match"):
        Plan.load(path)


def test_created_at_has_whole_seconds():
    assert Plan.create(NOW).created_at.microsecond == 0


def test_missing_plan_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read plan"):
        Plan.load(tmp_path / "nope.json")


def test_schema_file_matches_code():
    on_disk = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
    assert on_disk == plan_schema(), "run: orch schema plan > schemas/plan.schema.json"


def test_apply_report_exit_code_rule():
    a, b = sample_actions()[:2]
    ok = ApplyReport([ActionResult(a, Outcome.DONE), ActionResult(b, "skipped", "already linked")])
    assert ok.exit_code == 0 and ok.counts == {"done": 1, "skipped": 1}
    for bad in ("failed", "refused", "refused-stale", "not-run"):
        report = ApplyReport([ActionResult(a, Outcome.DONE), ActionResult(b, bad, "x")])
        assert report.exit_code == 1, bad
    assert ok.to_dict()["results"][1]["outcome"] == "skipped"


def test_plan_schema_action_enum_is_the_registry_in_plan_order():
    from orch.engine.kinds import action_order
    from orch.engine.plan import RESOURCE_KINDS
    from orch.registry import actions

    enum = plan_schema()["properties"]["actions"]["items"]["properties"]["action"]["enum"]
    assert enum == list(action_order()) and sorted(enum) == actions.names()
    # the order the plan, the summaries and this schema show (each class's ``order``)
    assert enum == ["link", "manifest", "mark_managed", "notify", "tag", "archive", "unarchive", "delete", "purge_trash"]
    for name, cls in actions.items():
        assert set(cls.resource_kinds) <= set(RESOURCE_KINDS), name
