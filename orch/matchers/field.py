"""``{field: PATH, OP: value}``: compare any resource attribute (dotted path, API names)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from orch.inventory import Resource
from orch.matchers.base import BaseMatcher, BuildContext, Path, as_text
from orch.registry import EvalContext, matchers

OPERATORS = ("eq", "ne", "in", "regex", "glob", "exists")
_SCALAR = {"type": ["string", "number", "boolean", "null"]}


@dataclass(frozen=True)
class FieldParams:
    field: str
    op: str  # one of OPERATORS
    value: Any  # compiled re.Pattern for regex, tuple for in, bool for exists


@matchers.register("field")
class FieldMatcher(BaseMatcher):
    Params = FieldParams
    doc = ("Compare a resource attribute (dotted path into the API JSON: ICA camelCase, BaseSpace "
           "PascalCase) with exactly one operator: eq, ne, in (list), regex (Python re.search, "
           "case-sensitive unless (?i)), glob (fnmatch, case-sensitive), exists (bool). A missing "
           "attribute is unknown (never selected, also under not) except for exists.")
    example = "{field: pipeline.code, regex: '(?i)bcl.*convert'}"
    #: the schema of the whole mapping (the field matcher has no key of its own)
    schema = {
        "type": "object",
        "properties": {
            "field": {"type": "string", "minLength": 1, "description": "dotted attribute path"},
            "eq": _SCALAR,
            "ne": _SCALAR,
            "in": {"type": ["array", "string"], "items": _SCALAR, "pattern": "\\{\\{|\\{%",
                   "x-expected": "a list of values or a {{ template }}"},
            "regex": {"type": "string"},
            "glob": {"type": "string"},
            "exists": {"$ref": "#/$defs/bool"},
        },
        "required": ["field"],
        "additionalProperties": False,
        "minProperties": 2,
        "maxProperties": 2,
        "x-messages": {m: "a field matcher takes `field` and exactly one operator of eq, ne, in, regex, glob, exists"
                       for m in ("minProperties", "maxProperties")},
    }

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "FieldMatcher | None":
        ops = [k for k in value if k in OPERATORS]
        if len(ops) != 1:
            b.error(path, f"a field matcher needs exactly one of {', '.join(OPERATORS)}")
            return None
        op = ops[0]
        field = b.render(value["field"], path + ("field",))
        if not isinstance(field, str) or not field:
            b.error(path + ("field",), "field must be a non-empty attribute path")
            return None
        raw = value[op]
        if op == "regex":
            compiled = b.regex(raw, path + (op,))
            return None if compiled is None else cls(FieldParams(field, op, compiled))
        rendered = b.render(raw, path + (op,))
        if op == "in":
            if not isinstance(rendered, (list, tuple)):
                b.error(path + (op,), "in needs a list of values")
                return None
            rendered = tuple(rendered)
        elif op == "exists":
            if not isinstance(rendered, bool):
                b.error(path + (op,), "exists needs true or false")
                return None
        elif op == "glob" and not isinstance(rendered, str):
            b.error(path + (op,), "glob needs a string pattern")
            return None
        if rendered is None and raw is not None:
            return None  # render failed: already reported
        return cls(FieldParams(field, op, rendered))

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        p = self.params
        value = resource.attr(p.field)
        if p.op == "exists":
            return (value is not Resource.MISSING and value is not None) == p.value
        if value is Resource.MISSING:
            return None
        if p.op == "eq":
            return value == p.value
        if p.op == "ne":
            return value != p.value
        if p.op == "in":
            return value in p.value
        if value is None or isinstance(value, (dict, list)):
            return None
        if p.op == "regex":
            return p.value.search(as_text(value)) is not None
        return fnmatch.fnmatchcase(as_text(value), p.value)  # glob

    def describe(self) -> str:
        p = self.params
        if p.op == "regex":
            return f"{p.field} matches {p.value.pattern!r}"
        if p.op == "glob":
            return f"{p.field} matches glob {p.value!r}"
        if p.op == "in":
            return f"{p.field} in [{', '.join(map(str, p.value))}]"
        if p.op == "exists":
            return f"{p.field} {'exists' if p.value else 'is absent'}"
        return f"{p.field} {'=' if p.op == 'eq' else '!='} {p.value!r}"

    def fields(self, kind: str | None = None) -> set[str]:
        return {self.params.field}

