"""``orch lint --format sarif``: lint problems as SARIF 2.1.0 for code-scanning annotations
(GitHub code scanning, GitLab, Azure DevOps). Validated against the OASIS schema in the tests.

Paths under the current folder are written relative to it (the repository root in CI, which is
what code scanning resolves them against); others as file:// URIs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from orch import __version__
from orch.policy.problems import Problem

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

#: (rule id, name, short description, how a message is recognised)
RULES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("orch/yaml", "YamlSyntax", "The file is not valid YAML (or not a text file).",
     ("YAML syntax error", "YAML error", "not a text file", "duplicate key", "recursive alias", "file too large",
      "document too large", "YAML merge keys", "a mapping key must be", "bad scalar", "bad key")),
    ("orch/file", "FileUnreadable", "The file or folder cannot be read.",
     ("cannot read", "no such file or folder", "no policy files")),
    ("orch/policy", "PolicyProblem", "The policy does not follow the policy language "
                                     "(schema, names, variables, templates, regexes, semantics).", ()),
)


def rule_for(problem: Problem) -> str:
    for rule_id, _name, _text, prefixes in RULES:
        if prefixes and problem.message.startswith(prefixes):
            return rule_id
    return RULES[-1][0]


def _uri(path: str) -> tuple[str, bool]:
    """(uri, relative?) of a problem's path."""
    p = Path(path)
    absolute = p.resolve()
    try:
        rel = absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        return absolute.as_uri(), False
    return rel.as_posix(), True


def to_sarif(problems: Iterable[Problem]) -> dict[str, Any]:
    """One SARIF log with one run of orch lint; every problem is an ``error`` result at its line:col."""
    results = []
    for p in problems:
        uri, relative = _uri(p.path)
        location: dict[str, Any] = {"uri": uri}
        if relative:
            location["uriBaseId"] = "%SRCROOT%"
        level = getattr(p, "level", "error")
        results.append({
            "ruleId": rule_for(p),
            "level": level if level in ("error", "warning", "note") else "error",
            "message": {"text": p.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": location,
                "region": {"startLine": max(p.line, 1), "startColumn": max(p.column, 1)},
            }}],
        })
    rules = [{"id": rid, "name": name, "shortDescription": {"text": text},
              "defaultConfiguration": {"level": "error"}} for rid, name, text, _ in RULES]
    ids = [r["id"] for r in rules]
    for r in results:
        r["ruleIndex"] = ids.index(r["ruleId"])
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "orch lint", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


__all__ = ["RULES", "rule_for", "to_sarif"]
