"""Generated documentation: docs/reference.md, schemas/policy.schema.json and
schemas/orchtest.schema.json come from here.

Regenerate both with ``python -m orch.policy.reference`` (a test keeps them equal to the code).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orch.policy.schema import policy_schema
from orch.registry import actions, matchers

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "policy.schema.json"
REFERENCE_PATH = ROOT / "docs" / "reference.md"
ORCHTEST_SCHEMA_PATH = ROOT / "schemas" / "orchtest.schema.json"


def schema_json() -> str:
    return json.dumps(policy_schema(), indent=2, sort_keys=True) + "\n"


def orchtest_schema_json() -> str:
    from orch.testing.schema import orchtest_schema

    return json.dumps(orchtest_schema(), indent=2, sort_keys=True) + "\n"


def _params(schema: dict) -> str:
    props = schema.get("properties")
    if not props:
        return "—"
    required = set(schema.get("required", []))
    return ", ".join(f"`{k}`" + (" (required)" if k in required else "") for k in props)


def reference_markdown() -> str:
    lines = [
        "# Policy language reference",
        "",
        "Generated from the matcher and action registries by `python -m orch.policy.reference`; do not",
        "edit by hand. The grammar and the semantics are in [policy-language.md](policy-language.md).",
        "",
        "## Matchers",
        "",
        "| matcher | applies to | example | meaning |",
        "|---|---|---|---|",
    ]
    for name, cls in matchers.items():
        kinds = ", ".join(sorted(cls.resource_kinds)) if cls.resource_kinds else "any"
        example = cls.example.replace("|", "\\|")
        lines.append(f"| `{name}` | {kinds} | `{example}` | {cls.doc} |")
    lines += ["", "## Actions", "", "| action | acts on | destructive | params | meaning |", "|---|---|---|---|---|"]
    for name, cls in actions.items():
        destructive = cls.destructive_doc or ("yes" if cls.destructive else "no")
        kinds = ", ".join(sorted(cls.resource_kinds))
        lines.append(f"| `{name}` | {kinds} | {destructive} | {_params(cls.schema)} | {cls.description} |")
    variable = policy_schema()["$defs"]["variable"]
    lines += ["", "## vars (long form)", "",
              "`name: {default: X, ...}`: " + variable["description"] + ". Keys:", "",
              "| key | meaning |", "|---|---|"]
    for key, sub in variable["properties"].items():
        required = " (required)" if key in variable.get("required", []) else ""
        lines.append(f"| `{key}`{required} | {sub['description']} |")
    protect = policy_schema()["properties"]["protect"]
    lines += ["", "## protect", "", protect["description"][0].upper() + protect["description"][1:] + ".", "",
              "| key | entries |", "|---|---|"]
    for key, sub in protect["properties"].items():
        lines.append(f"| `{key}` | {sub['description']} |")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    SCHEMA_PATH.write_text(schema_json())
    ORCHTEST_SCHEMA_PATH.write_text(orchtest_schema_json())
    REFERENCE_PATH.write_text(reference_markdown())
    print(f"wrote {SCHEMA_PATH.relative_to(ROOT)}, {ORCHTEST_SCHEMA_PATH.relative_to(ROOT)} and "
          f"{REFERENCE_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
