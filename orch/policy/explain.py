"""``orch explain NAME``: one matcher's or action's documentation, JSON Schema and example (like
``custodian schema aws.ec2.filters.value``), or a key of the policy file (``policy.for_each``).

Everything printed comes from the registry and the generated policy schema, so it cannot drift
from what lint accepts.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from orch.errors import ConfigError
from orch.policy.schema import action_example, policy_schema
from orch.registry import actions, matchers


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = schema["$defs"].get(ref[len("#/$defs/"):], {})
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _params(schema: dict[str, Any], node: dict[str, Any]) -> list[str]:
    props = node.get("properties") or {}
    required = set(node.get("required") or [])
    lines = []
    for key, sub in props.items():
        sub = _resolve(schema, sub)
        text = sub.get("description", "")
        lines.append(f"  {key}{' (required)' if key in required else ''}: {text}".rstrip(": "))
    return lines


def _key_paths(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``scope``, ``policy.for_each.outputs``, ... -> their (resolved) schema."""
    out: dict[str, dict[str, Any]] = {}

    def walk(prefix: str, node: dict[str, Any], depth: int) -> None:
        for key, sub in (node.get("properties") or {}).items():
            sub = _resolve(schema, sub)
            name = f"{prefix}.{key}" if prefix else key
            out[name] = sub
            if depth < 4:
                walk(name, sub, depth + 1)

    walk("", schema, 0)
    walk("policy", schema["$defs"]["policy"], 1)
    return out


def names() -> list[str]:
    return sorted(set(matchers.names()) | set(actions.names()) | set(_key_paths(policy_schema())))


def explain(name: str) -> str:
    """The text ``orch explain NAME`` prints; ConfigError (with a suggestion) for an unknown name."""
    schema = policy_schema()
    kind, _, bare = name.partition(".") if name.startswith(("matcher.", "action.")) else ("", "", name)
    if kind in ("", "matcher") and matchers.get(bare):
        cls = matchers.get(bare)
        node = schema["$defs"][f"matcher.{bare}"]
        applies = ", ".join(sorted(cls.resource_kinds)) if cls.resource_kinds else "any resource"
        head = [f"matcher {bare} (applies to {applies}{'; may be written bare' if getattr(cls, 'bare', False) else ''})",
                "", cls.doc, "", "Example:", f"  {cls.example}"]
        body = node
    elif kind in ("", "action") and actions.get(bare):
        cls = actions.get(bare)
        node = schema["$defs"][f"action.{bare}"]
        destructive = "destructive" if cls.destructive else "not destructive"
        head = [f"action {bare} (acts on {', '.join(sorted(cls.resource_kinds))}; {destructive})",
                "", cls.description, "", "Example:", f"  {action_example(bare)}"]
        body = node
    elif not kind and name in _key_paths(schema):
        body = _key_paths(schema)[name]
        head = [f"key {name}", "", body.get("description", "(no description)")]
        if body.get("examples"):
            head += ["", "Example:", f"  {json.dumps(body['examples'][0])}"]
    else:
        close = difflib.get_close_matches(name, names(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"nothing called {name!r} to explain{hint} (matchers: {', '.join(matchers.names())}; "
                          f"actions: {', '.join(actions.names())}; or a key such as policy.for_each)")
    params = _params(schema, body)
    lines = head + (["", "Parameters:"] + params if params else [])
    lines += ["", "Schema:", json.dumps(body, indent=2, sort_keys=True)]
    return "\n".join(lines) + "\n"
