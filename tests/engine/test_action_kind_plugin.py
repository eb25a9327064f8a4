"""An action kind is one class (issue 11): a throwaway kind, registered in this file alone, is linted,
planned, rendered, applied and recorded without any other module knowing its name."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine_fakes import NOW, FakeIca, data
from orch.actions.base import BaseAction
from orch.engine.applier import Applier
from orch.engine.context import PlanContext
from orch.engine.executors import ApplyContext, Executor, reread
from orch.engine.ledger import Ledger
from orch.engine.plan import ActionResult, Outcome, Plan
from orch.engine.planner import build_plan
from orch.engine.render import render_apply_summary, render_markdown, render_table
from orch.policy import schema
from orch.policy.lint import lint_paths
from orch.policy.loader import load_policies
from orch.registry import ActionSpec, actions

STAMPED: list[tuple[str, str]] = []  # (data id, label) the executor "wrote"


class StampExecutor(Executor):
    def run_one(self, action, ctx):
        if reread(action, ctx) is None:
            return ActionResult(action, Outcome.REFUSED_STALE, "gone")
        STAMPED.append((action.resource.id, action.params["label"]))
        return ActionResult(action, Outcome.DONE, f"stamped {action.params['label']}")


@dataclass(frozen=True)
class StampParams:
    label: str


class Stamp(BaseAction):
    """Everything about the kind, in one class."""

    Params = StampParams
    bare = False
    resource_kinds = frozenset({"ica.data"})
    description = "Stamp the file with a label (a test kind)."
    schema = {"type": "object", "properties": {"label": {"type": "string", "minLength": 1}},
              "required": ["label"], "additionalProperties": False}
    order = 45
    planned_phrase, done_phrase = "{n} to stamp", "{n} stamped"
    _executor = StampExecutor()

    @classmethod
    def build(cls, value, b, path):
        label = b.render(value["label"], path + ("label",))
        return None if label is None else ActionSpec(cls.name, StampParams(str(label)))

    @classmethod
    def plan_data(cls, step, spec, c, filters):
        return step.make(cls.name, c.resource, {"label": spec.params.label}, filters,
                         f"stamp {c.resource.path} with {spec.params.label}")

    @classmethod
    def details(cls, params, short=False):
        return f"label {params['label']}"

    @classmethod
    def executor_for(cls, resource_kind):
        return cls._executor


def _forget_schema() -> None:
    """The policy schema is generated from the registry once per process (and its validator cached)."""
    schema._schema.cache_clear()
    schema._validator.cache_clear()


@pytest.fixture
def stamp_kind():
    actions.register("stamp")(Stamp)
    _forget_schema()
    STAMPED.clear()
    yield Stamp
    actions.remove("stamp")
    _forget_schema()


POLICY = """\
version: 1
group: lab
scope:
  ica_projects: [src]
policies:
  - name: stamp-fastqs
    description: Stamp every FASTQ.
    resource: ica.data
    project: src
    filters:
      - {field: name, regex: 'fastq'}
    actions:
      - stamp: {label: %s}
"""


def test_a_kind_registered_in_one_class_is_linted_planned_rendered_applied_and_recorded(stamp_kind, tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(POLICY % "reviewed")
    bad.write_text(POLICY.replace("{label: %s}", "{lable: x}"))
    # linted: the generated schema knows the kind and its params
    assert lint_paths([str(good)]) == []
    problems = lint_paths([str(bad)])
    assert len(problems) == 1 and str(bad) in str(problems[0]) and "lable" in str(problems[0])

    ica = FakeIca()
    ica.add_project("src", "p-src")
    ica.add(data("p-src", "/runs/A/M-1_R1.fastq.gz", "fil.1"))
    ica.add(data("p-src", "/runs/A/notes.txt", "fil.2"))
    ledger = Ledger(":memory:")
    outcome = build_plan(load_policies([str(good)]), PlanContext(ica, None, ledger, NOW))
    plan = outcome.plan
    # planned: once, on the FASTQ only, and a valid plan file (the schema's action enum has it)
    assert [(a.action, a.resource.id, a.params) for a in plan.actions] == [("stamp", "fil.1", {"label": "reviewed"})]
    assert plan.summary == {"stamp": 1} and not plan.errors
    assert Plan.loads(plan.to_json()).actions[0].action == "stamp"

    # rendered: marker, phrase and details come from the class
    table = render_table(plan)
    assert "+ │ stamp" in table and "label reviewed" in table and "Plan: 1 to stamp." in table
    assert "stamp" in render_markdown(plan) and "1 to stamp" in render_markdown(plan)

    # applied through the class's executor, and recorded in the ledger's audit log
    report = Applier(ApplyContext(ica, None, ledger, NOW), allows={"stamp-fastqs": False}).apply(plan)
    assert [r.outcome for r in report.results] == [Outcome.DONE] and STAMPED == [("fil.1", "reviewed")]
    assert "Resources: 1 stamped." in render_apply_summary(report)
    audit = ledger.history()
    assert [(e.action, e.resource_id, e.outcome) for e in audit] == [("stamp", "fil.1", "done")]


def test_the_kind_is_gone_once_unregistered(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text(POLICY % "x")
    assert lint_paths([str(bad)]), "without the class, the schema rejects the keyword"
