"""The ``notify`` action: tell people what a hand-off did (one class, as every action kind).

In an ``ica.analysis`` policy, after the policy's other actions on the analysis::

    - notify: {to: ["webhook:env:MGI_SLACK_WEBHOOK", "email:mgi-core@lab.example"]}

The message is rendered when the plan is made (so the plan shows exactly what will be said), from
``orch/ops/templates/<template>.txt.j2``: "12 FASTQs of RUN_X handed off to Ken_demos, manifest at
...". It is planned only when something is handed off this run, depends on all of it, and is sent by
``orch.ops.notify`` (targets name where the secret is, never the secret).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orch.actions.base import BaseAction
from orch.engine.executors import Executor
from orch.engine.plan import ActionResult, Outcome
from orch.registry import ActionSpec, actions

TEMPLATES = ("handoff",)
_TARGET = r"^(webhook:(env|file):\S+|email:[^,\s@]+@[^,\s]+(,[^,\s@]+@[^,\s]+)*)$"


@dataclass(frozen=True)
class NotifyParams:
    to: tuple[str, ...] = field(default_factory=tuple)
    template: str = "handoff"


class NotifyExecutor(Executor):
    def run_one(self, action, ctx) -> ActionResult:
        from orch.errors import OrchError
        from orch.ops.notify import Message, parse_target

        p = action.params
        sent, failed = [], []
        for target in p.get("to", []):
            try:
                sender = parse_target(target)
                sender.send(Message(f"orch: {action.policy}", str(p.get("text", ""))))
                sent.append(sender.label)
            except OrchError as exc:  # NotifyError or ConfigError: never the secret
                failed.append(str(exc))
        if failed:
            return ActionResult(action, Outcome.FAILED, "; ".join(failed) + (f" (sent: {', '.join(sent)})" if sent else ""))
        return ActionResult(action, Outcome.DONE, f"sent to {', '.join(sent)}")


@actions.register("notify")
class Notify(BaseAction):
    Params = NotifyParams
    bare = False
    resource_kinds = frozenset({"ica.analysis"})
    description = ("Tell people what the hand-off did (Slack-compatible webhook and/or e-mail), after the "
                   "policy's other actions on the analysis; targets: webhook:env:VAR, webhook:file:PATH, "
                   "email:ADDR[,ADDR] (SMTP settings from ORCH_SMTP_*).")
    schema = {"type": "object",
              "properties": {"to": {"oneOf": [{"type": "string", "pattern": _TARGET},
                                              {"type": "array", "minItems": 1,
                                               "items": {"type": "string", "pattern": _TARGET}}]},
                             "template": {"enum": list(TEMPLATES)}},
              "required": ["to"], "additionalProperties": False}
    order = 35
    analysis_phase = 3
    planned_phrase, done_phrase = "{n} to notify", "{n} notified"
    _executor = NotifyExecutor()

    @classmethod
    def build(cls, value, b, path):
        to = value["to"]
        targets = (to,) if isinstance(to, str) else tuple(to)
        return ActionSpec(cls.name, NotifyParams(targets, value.get("template", "handoff")))

    @classmethod
    def plan_analysis(cls, step, spec, analysis, files, planned):
        from orch.ops.notify import render

        links = [a for a in planned if a.action == "link"]
        manifests = [a for a in planned if a.action == "manifest"]
        if not links and not manifests:  # nothing handed off this run: nothing to tell
            return []
        dest = (links or manifests)[0].params
        text = render(spec.params.template, files=len(links),
                      run=analysis.user_reference or analysis.reference,
                      project=dest.get("to_project") or dest.get("to_project_id"),
                      manifest=manifests[0].params.get("path") if manifests else None)
        params = {"to": list(spec.params.to), "template": spec.params.template, "text": text}
        act = step.make(cls.name, analysis, params, step.policy.filters,
                        f"tell {', '.join(spec.params.to)}: {text}", depends_on=[x.id for x in planned])
        return [act] if act is not None else []

    @classmethod
    def details(cls, params, short=False):
        return ", ".join(params.get("to", []))

    @classmethod
    def executor_for(cls, resource_kind):
        return cls._executor
