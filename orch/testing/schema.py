"""The JSON Schema of ``*.orchtest.yaml`` files (``orch schema test``).

Every key carries a description and an example, so yaml-language-server shows hover help.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import orch.actions  # noqa: F401  (registers the actions)
from orch.registry import actions

SCHEMA_ID = "https://orch.dev/schemas/orchtest.schema.json"
RESOURCE_KINDS = ["ica.project", "ica.analysis", "ica.data", "bssh.project", "bssh.dataset", "bssh.run", "bssh.trash"]
DEMO_WORLD = "orch:demo"


def _d(schema: dict[str, Any], description: str, *examples: Any) -> dict[str, Any]:
    out = dict(schema, description=description)
    if examples:
        out["examples"] = list(examples)
    return out


def _shared() -> dict[str, Any]:
    """Keys a file gives as defaults for its cases and a case may override."""
    return {
        "policies": _d({"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                       "policy files or folders, relative to this test file", ["../mgi.yaml"]),
        "world": _d({"type": ["string", "object"]},
                    "the sandbox world: a world file relative to this test file, `orch:demo` for the demo "
                    "world shipped with orch, or the world inline (sandbox world format, `orch schema world`)",
                    "worlds/small.world.yaml", DEMO_WORLD),
        "now": _d({"type": "string", "minLength": 1},
                  "the clock of the run (ISO 8601; default: the world's now); the sandbox clock starts there too",
                  "2026-11-25T12:00:00Z"),
        "vars": _d({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                   "policy variables, as with --var (a case's vars are merged over the file's)",
                   {"days_to_archive": 30}),
        "managed": _d({"type": "array", "items": {"type": "string", "minLength": 1}},
                      "ids of ICA analyses already recorded in the ledger (handed off by an earlier run)",
                      ["5c1e0000-0000-4000-8000-00000000000a"]),
    }


def _expectation() -> dict[str, Any]:
    return _d({
        "type": "object",
        "properties": {
            "action": _d({"enum": actions.names()}, "the planned action", "delete"),
            "kind": _d({"enum": RESOURCE_KINDS}, "the resource kind (plan `resource.kind`)", "ica.data"),
            "name": _d({"type": "string", "minLength": 1}, "the resource's name, exactly", "M-1_L001"),
            "path": _d({"type": "string", "minLength": 1}, "the resource's ICA path, exactly",
                       "/ilmn-analyses/RUN_A/output/"),
            "id": _d({"type": ["string", "integer"], "minLength": 1}, "the resource's platform id", "fil.0a1b"),
            "policy": _d({"type": "string", "minLength": 1}, "the policy that planned it", "delete-ica-outputs"),
            "then": _d({"type": "string", "minLength": 1}, "params.then of an unarchive (the second phase)",
                       "delete"),
            "reason": _d({"type": "string", "minLength": 1}, "text the action's reason contains",
                         "older than 90d"),
            "params": _d({"type": "object"}, "params the action has (each given key equal)",
                         {"to_project": "Ken_demos"}),
        },
        "required": ["action"],
        "anyOf": [{"required": ["name"]}, {"required": ["path"]}, {"required": ["id"]}],
        "additionalProperties": False,
        "x-messages": {"anyOf": "an expected action names its resource: give name, path or id"},
    }, "one expected action: the action and its resource (name, path or id); each planned action must be "
       "expected and each expectation planned", {"action": "archive", "kind": "bssh.dataset", "name": "M-1_L001"})


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    case_props = {
        "name": _d({"type": "string", "minLength": 1}, "the case's name (unique in the file)", "demo world at day 90"),
        "description": _d({"type": "string"}, "what the case shows", "archived data is restored before delete"),
        **_shared(),
        "expect": _d({"type": "array", "items": {"$ref": "#/$defs/expectation"}},
                     "every action the plan must hold, and no other (empty: the plan has no actions)",
                     [{"action": "link", "kind": "ica.data", "name": "M-1_S1_L001_R1_001.fastq.gz"}]),
        "errors": _d({"type": "array", "items": {"type": "string", "minLength": 1}},
                     "text of each plan error expected (default: none; any other error fails the case)",
                     ["cannot read"]),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "orch policy test file (*.orchtest.yaml)",
        "description": "Cases that plan policies against a sandbox world and compare the plan with the "
                       "expected actions; run with `orch test`.",
        "type": "object",
        "properties": {
            "version": _d({"const": 1}, "format version of the test file", 1),
            **_shared(),
            "cases": _d({"type": "array", "items": {"$ref": "#/$defs/case"}, "minItems": 1},
                        "the test cases; each inherits policies, world, now, vars and managed from the file"),
        },
        "required": ["version", "cases"],
        "additionalProperties": False,
        "$defs": {
            "expectation": _expectation(),
            "case": _d({"type": "object", "properties": case_props, "required": ["name", "expect"],
                        "additionalProperties": False}, "one test case: a plan and what it must hold"),
        },
    }


def orchtest_schema() -> dict[str, Any]:
    """The test-file JSON Schema (a fresh copy)."""
    return copy.deepcopy(_schema())
