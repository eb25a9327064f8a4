"""Loading ``*.orchtest.yaml``: typed cases, or problems at ``PATH:LINE:COL`` like ``orch lint``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

import jsonschema

from orch.policy.problems import Problem
from orch.policy.schema import schema_errors
from orch.policy.yamlpos import Document, YamlError, load_bytes
from orch.testing.schema import _schema

SUFFIX = ".orchtest.yaml"
#: folders never searched for test files
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", ".orch", "__pycache__", ".tox"}


@dataclass(frozen=True)
class Expectation:
    """One expected action; ``line``/``column`` say where it is written."""

    action: str
    kind: str | None = None
    name: str | None = None
    path: str | None = None
    id: str | None = None
    policy: str | None = None
    then: str | None = None
    reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    line: int = 0
    column: int = 0

    def matches(self, action: dict[str, Any]) -> bool:
        """True when a plan action (contracts section 2, as JSON) is this expectation."""
        res = action.get("resource") or {}
        params = action.get("params") or {}
        checks = (
            (self.action, action.get("action")), (self.kind, res.get("kind")), (self.name, res.get("name")),
            (self.path, res.get("path")), (self.id, res.get("id")), (self.policy, action.get("policy")),
            (self.then, params.get("then")),
        )
        if any(want is not None and want != got for want, got in checks):
            return False
        if self.reason is not None and self.reason not in (action.get("reason") or ""):
            return False
        return all(params.get(k) == v for k, v in self.params.items())

    def label(self) -> str:
        what = " ".join(x for x in (self.action + (f" (then {self.then})" if self.then else ""), self.kind) if x)
        res = self.path or self.name or self.id or ""
        extra = f" [{self.policy}]" if self.policy else ""
        return f"{what} {res}{extra}"


@dataclass
class TestCase:
    name: str
    file: str
    line: int
    policies: list[str]  # resolved paths
    world: str | dict[str, Any]  # resolved path, DEMO_WORLD, or an inline world
    now: str | None
    vars: dict[str, Any]
    managed: list[str]
    expect: list[Expectation]
    errors: list[str]
    index: int = 0

    @property
    def nodeid(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class TestFile:
    path: str
    cases: list[TestCase]
    problems: list[Problem]


@lru_cache(maxsize=1)
def _validator():
    schema = _schema()
    return jsonschema.validators.validator_for(schema)(schema)


def find_test_files(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Files as given; folders searched recursively for ``*.orchtest.yaml`` (sorted)."""
    found: list[str] = []
    problems: list[Problem] = []
    for path in paths:
        path = str(path)
        if os.path.isdir(path):
            here = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                here += [os.path.join(root, n) for n in names if n.endswith(SUFFIX)]
            found += sorted(here)
        elif os.path.exists(path):
            found.append(path)
        else:
            problems.append(Problem(path, 1, 1, "no such file or folder"))
    seen: set[str] = set()
    unique = [f for f in found if not (os.path.realpath(f) in seen or seen.add(os.path.realpath(f)))]
    return [os.path.normpath(f) for f in unique], problems


def _resolve(base: str, value: Any) -> Any:
    from orch.testing.schema import DEMO_WORLD

    if isinstance(value, str) and value != DEMO_WORLD and not os.path.isabs(value):
        return os.path.normpath(os.path.join(base, value))
    return value


def load_test_file(path: str) -> TestFile:
    """Parse and check one test file; a file with problems has no cases."""
    out = TestFile(path=path, cases=[], problems=[])
    try:
        with open(path, "rb") as fh:
            doc = load_bytes(fh.read())
    except OSError as exc:
        out.problems.append(Problem(path, 1, 1, f"cannot read: {exc.strerror or exc}"))
        return out
    except YamlError as exc:
        out.problems.append(Problem(path, exc.line, exc.column, exc.message))
        return out
    data = doc.data
    if not isinstance(data, dict):
        out.problems.append(Problem(path, 1, 1, "a test file is a mapping with version: 1 and cases: [...]"))
        return out
    for where, key, message in schema_errors(data, _validator()):
        line, col = doc.pos(where, key=key)
        out.problems.append(Problem(path, line, col, message))
    if out.problems:
        out.problems = sorted(set(out.problems))
        return out
    out.cases = _cases(path, doc, out.problems)
    if out.problems:
        out.cases = []
    return out


def _cases(path: str, doc: Document, problems: list[Problem]) -> list[TestCase]:
    data = doc.data
    base = os.path.dirname(path) or "."
    cases: list[TestCase] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(data["cases"]):
        line, col = doc.pos(("cases", i, "name"))
        if c["name"] in seen:
            problems.append(Problem(path, line, col, f"duplicate case name {c['name']!r} (also at line {seen[c['name']]})"))
            continue
        seen[c["name"]] = line

        def pick(key: str, default: Any = None) -> Any:
            return c.get(key, data.get(key, default))

        policies = pick("policies")
        world = pick("world")
        for key, value in (("policies", policies), ("world", world)):
            if value is None:
                problems.append(Problem(path, line, col, f"case {c['name']!r} has no {key} (give {key}: in the "
                                                         f"case or at the top of the file)"))
        if policies is None or world is None:
            continue
        expect = []
        for j, e in enumerate(c["expect"]):
            eline, ecol = doc.pos(("cases", i, "expect", j))
            expect.append(Expectation(
                action=e["action"], kind=e.get("kind"), name=e.get("name"), path=e.get("path"),
                id=str(e["id"]) if "id" in e else None, policy=e.get("policy"), then=e.get("then"),
                reason=e.get("reason"), params=dict(e.get("params") or {}), line=eline, column=ecol))
        cases.append(TestCase(
            name=c["name"], file=path, line=line, index=i,
            policies=[_resolve(base, p) for p in policies], world=_resolve(base, world),
            now=pick("now"), vars={**(data.get("vars") or {}), **(c.get("vars") or {})},
            managed=list(pick("managed", [])), expect=expect, errors=list(c.get("errors") or [])))
    return cases
