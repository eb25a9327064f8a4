"""JSON Schema of the plan file; schemas/plan.schema.json equals ``plan_schema()`` (drift test)."""

from __future__ import annotations

from typing import Any

from orch.engine import kinds
from orch.vocab import RESOURCE_KINDS

FORMAT_VERSION = "1"
ID_LEN = 16  # hex chars of an action id (64 bits)
FP_LEN = 32  # hex chars of a fingerprint (128 bits)

_ID = {"type": "string", "pattern": f"^[0-9a-f]{{{ID_LEN}}}$"}
_TS = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"}


def plan_schema() -> dict[str, Any]:
    """JSON Schema of the plan file (format_version "1"); schemas/plan.schema.json equals it."""
    resource = {
        "type": "object",
        "description": "The resource acted on: kind, the platform's own id, a name, and the fields a "
                       "reviewer needs (path, status, timestamps).",
        "required": ["kind", "id", "name"],
        "properties": {
            "kind": {"enum": list(RESOURCE_KINDS)},
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string"},
            "project_id": {"type": ["string", "null"]},
        },
        "additionalProperties": True,
    }
    action = {
        "type": "object",
        "required": ["id", "policy", "group", "action", "resource", "params", "reason", "fingerprint",
                     "depends_on"],
        "additionalProperties": False,
        "properties": {
            "id": {**_ID, "description": "Stable hash of policy, action, resource and params."},
            "policy": {"type": "string", "minLength": 1},
            "group": {"type": "string"},
            "action": {"enum": list(kinds.action_order()),
                       "description": "unarchive with params.then = delete is the first step of a delete."},
            "resource": resource,
            "params": {"type": "object"},
            "reason": {"type": "string"},
            "fingerprint": {"type": "string",
                            "description": "Hash of the resource fields the decision used; apply refuses "
                                           "the action when the re-read resource no longer matches."},
            "depends_on": {"type": "array", "items": _ID, "uniqueItems": True},
            "won_over": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
                         "description": "Additive: policies whose action on this resource lost to this "
                                        "one (delete beats archive) or was merged into it."},
            "fingerprint_fields": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
                                   "description": "Additive: the resource field paths the fingerprint covers."},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://orch.example/schemas/plan.schema.json",
        "title": "orch plan file",
        "description": "A plan saved by `orch plan --out`; `orch apply PLAN.json` applies exactly these "
                       "actions, in this order.",
        "type": "object",
        "required": ["format_version", "orch_version", "created_at", "now", "policy_files", "vars", "actions",
                     "summary", "errors"],
        "additionalProperties": False,
        "properties": {
            "format_version": {"const": FORMAT_VERSION},
            "orch_version": {"type": "string"},
            "created_at": _TS,
            "now": {**_TS, "description": "The clock every age was computed against."},
            "policy_files": {"type": "array", "items": {
                "type": "object", "required": ["path", "sha256"], "additionalProperties": False,
                "properties": {"path": {"type": "string"},
                               "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}},
            "vars": {"type": "object"},
            "actions": {"type": "array", "items": action},
            "summary": {"type": "object", "description": "Number of actions per action kind.",
                        "additionalProperties": {"type": "integer", "minimum": 1}},
            "errors": {"type": "array", "items": {
                "type": "object", "required": ["policy", "message"], "additionalProperties": False,
                "properties": {"policy": {"type": "string"}, "message": {"type": "string"}}}},
        },
    }


def validation_error(data: Any) -> str | None:
    """The most relevant schema violation as one line, or None when ``data`` is a valid plan."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(plan_schema())
    best = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if best is None:
        return None
    where = "/".join(str(p) for p in best.absolute_path) or "(top level)"
    msg = best.message if len(best.message) <= 160 else best.message[:157] + "..."
    return f"at {where}: {msg}"
