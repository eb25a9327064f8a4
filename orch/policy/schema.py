"""The policy JSON Schema, generated from the matcher and action registries, and validation
that turns jsonschema errors into one precise message at the offending node."""

from __future__ import annotations

import difflib

from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

import orch.actions  # noqa: F401  (registers the actions)
import orch.matchers  # noqa: F401  (registers the matchers)
from orch.registry import actions, matchers

SCHEMA_ID = "https://orch.dev/schemas/policy.schema.json"
RESOURCES = ["ica.analysis", "ica.data", "bssh.dataset", "bssh.run", "bssh.trash"]
VIA = ["outputs", "output_folder", "bsshoutput_projects", "run"]
TEMPLATE = "\\{\\{|\\{%"
IDENT = "^[A-Za-z_][A-Za-z0-9_]*$"


def _keyed(kind: str, registry, string_names: list[str], single_key_names: list[str],
           extra_if: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A value that is a bare name (string) or a one-key mapping ``{NAME: params}``."""
    chain: list[dict[str, Any]] = [
        {"if": {"type": "string"},
         "then": {"enum": string_names, "x-messages": {"enum": f"unknown {kind} or {kind} that needs parameters"}}},
    ]
    chain += extra_if or []
    chain.append({
        "if": {"type": "object", "not": {"required": ["field"]}} if kind == "matcher" else {"type": "object"},
        "then": {"minProperties": 1, "maxProperties": 1,
                 "propertyNames": {"enum": single_key_names},
                 "properties": {name: {"$ref": f"#/$defs/{kind}.{name}"} for name in single_key_names},
                 "x-messages": {"maxProperties": f"{'an' if kind == 'action' else 'a'} {kind} is a mapping with exactly one key"
                                + ("; combine several with all: [...]" if kind == "matcher" else
                                   "; write each action as its own list item"),
                                "minProperties": f"empty {kind}"}},
    })
    return {"type": ["string", "object"], "allOf": chain}


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    defs: dict[str, Any] = {
        "template": {"type": "string", "pattern": TEMPLATE, "description": "a {{ template }}", "x-expected": "a {{ template }}"},
        "bool": {"type": ["boolean", "string"], "pattern": TEMPLATE,
                 "description": "true, false or a {{ template }}", "x-expected": "true, false or a {{ template }}"},
        "count": {"type": ["integer", "string"], "minimum": 0, "pattern": TEMPLATE,
                  "description": "a whole number >= 0 or a {{ template }}", "x-expected": "a whole number >= 0 or a {{ template }}"},
        "percent": {"type": ["number", "string"], "minimum": 0, "maximum": 100, "pattern": TEMPLATE,
                    "description": "a number from 0 to 100 or a {{ template }}", "x-expected": "a number from 0 to 100 or a {{ template }}"},
        "duration": {"type": "string", "pattern": "^\\s*\\d+(\\.\\d+)?\\s*[smhdw]\\s*$|" + TEMPLATE,
                     "description": "a duration such as 90d or 12h (units s, m, h, d, w) or a {{ template }}", "x-expected": "a duration such as 90d or 12h (units s, m, h, d, w) or a {{ template }}"},
        "filters": {"type": "array", "items": {"$ref": "#/$defs/matcher"}},
        "variable": {
            "type": "object",
            "description": "a variable's long form: its default and the values --var may give it",
            "properties": {
                "default": {"type": ["string", "number", "boolean"],
                            "description": "the value when no --var gives one; its type is the variable's type",
                            "x-expected": "a string, number or boolean (no templates)"},
                "choices": {"type": "array", "items": {"type": ["string", "number", "boolean"]},
                            "minItems": 1, "uniqueItems": True,
                            "description": "the only values allowed (same type as the default)"},
                "min": {"type": ["number", "string"], "pattern": TEMPLATE,
                        "description": "smallest value allowed (number variables): a number or a {{ template }} "
                                       "over the other variables",
                        "x-expected": "a number or a {{ template }}"},
                "max": {"type": ["number", "string"], "pattern": TEMPLATE,
                        "description": "largest value allowed (number variables): a number or a {{ template }} "
                                       "over the other variables",
                        "x-expected": "a number or a {{ template }}"},
                "description": {"type": "string", "description": "what the variable means (documentation)"},
            },
            "required": ["default"],
            "additionalProperties": False,
        },
    }
    matcher_names = [n for n in matchers.names() if n != "field"]
    for name, cls in matchers.items():
        defs[f"matcher.{name}"] = {**cls.schema, "description": cls.doc}
    defs["matcher"] = _keyed(
        "matcher", matchers, [n for n, c in matchers.items() if getattr(c, "bare", False)], matcher_names,
        extra_if=[{"if": {"type": "object", "required": ["field"]}, "then": {"$ref": "#/$defs/matcher.field"}}])
    for name, cls in actions.items():
        defs[f"action.{name}"] = {**cls.schema, "description": cls.description}
    defs["action"] = _keyed("action", actions, [n for n, c in actions.items() if getattr(c, "bare", True)],
                            actions.names())
    defs["policy"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$",
                     "description": "unique across all loaded files: lower case, digits, . _ -"},
            "description": {"type": "string", "minLength": 1},
            "resource": {"enum": RESOURCES},
            "enabled": {"$ref": "#/$defs/bool"},
            "project": {"type": "string", "minLength": 1, "description": "ICA project name"},
            "from": {
                "type": "object",
                "properties": {
                    "analyses": {"type": "object",
                                 "properties": {"project": {"type": "string", "minLength": 1},
                                                "filters": {"$ref": "#/$defs/filters"}},
                                 "required": ["project"], "additionalProperties": False},
                    "via": {"enum": VIA},
                },
                "required": ["analyses", "via"], "additionalProperties": False,
            },
            "filters": {"$ref": "#/$defs/filters"},
            "for_each": {
                "type": "object",
                "properties": {"outputs": {
                    "type": "object",
                    "properties": {"recursive": {"$ref": "#/$defs/bool"}, "filters": {"$ref": "#/$defs/filters"}},
                    "additionalProperties": False}},
                "required": ["outputs"], "additionalProperties": False,
            },
            "actions": {"type": "array", "items": {"$ref": "#/$defs/action"}, "minItems": 1},
            "max_resources": {"type": "object",
                              "properties": {"count": {"$ref": "#/$defs/count"},
                                             "percent": {"$ref": "#/$defs/percent"}},
                              "minProperties": 1, "additionalProperties": False},
            "allow_destructive": {"type": "boolean"},
        },
        "required": ["name", "description", "resource", "actions"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "orch policy file (policy language v1)",
        "description": "Generated from the matcher and action registries; see docs/policy-language.md.",
        "type": "object",
        "properties": {
            "version": {"const": 1},
            "group": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
            "vars": {"type": "object", "propertyNames": {"pattern": IDENT},
                     "additionalProperties": {
                         "if": {"type": "object"}, "then": {"$ref": "#/$defs/variable"},
                         "else": {"type": ["string", "number", "boolean"],
                                  "description": "the default: a string, number or boolean (no templates)",
                                  "x-expected": "a string, number or boolean (no templates), or a mapping "
                                                "with default (the long form)"}}},
            "scope": {"type": "object",
                      "properties": {"ica_projects": {"type": "array", "items": {"type": "string", "minLength": 1}},
                                     "bssh_projects": {"type": "array", "items": {"type": "string", "minLength": 1}},
                                     "bssh_from_bsshoutput": {"type": "boolean"}},
                      "additionalProperties": False},
            "protect": {
                "type": ["object", "null"],
                "description": "resources no action of any loaded policy may touch (see docs/policy-language.md)",
                "properties": {
                    "names": {"type": "array", "items": {"type": "string", "minLength": 1},
                              "description": "globs on the base name (file, folder, dataset, run or analysis reference)"},
                    "paths": {"type": "array", "items": {"type": "string", "minLength": 1},
                              "description": "ICA paths or path globs; a path protects everything under it"},
                    "ids": {"type": "array", "items": {"type": ["string", "integer"], "minLength": 1},
                            "description": "exact ids (ICA data and analyses, BaseSpace datasets and runs)"},
                    "tags": {"type": "array", "items": {"type": "string", "minLength": 1},
                             "description": "ICA user or technical tags of data and analyses (exact)"},
                },
                "additionalProperties": False,
            },
            "matchers": {"type": "object", "propertyNames": {"pattern": IDENT},
                         "additionalProperties": {"$ref": "#/$defs/matcher"}},
            "policies": {"type": "array", "items": {"$ref": "#/$defs/policy"}, "minItems": 1},
        },
        "required": ["version", "group", "scope", "policies"],
        "additionalProperties": False,
        "$defs": defs,
    }


def policy_schema() -> dict[str, Any]:
    """The policy JSON Schema (a fresh copy)."""
    import copy

    return copy.deepcopy(_schema())


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(_schema())
    return cls(_schema())


# --------------------------------------------------------------------------- messages
_TYPES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
          "number": "a number", "boolean": "true or false", "null": "nothing"}


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if value is None:
        return "nothing"
    return f"the string {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(path: tuple) -> str:
    """A readable name of the node, e.g. ``policies[2].filters[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the file"


def _did_you_mean(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1) if key is not None else []
    return f"; did you mean {close[0]!r}?" if close else ""


def _known_keys(schema: dict[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


def describe_error(err: ValidationError) -> tuple[tuple, bool, str]:
    """(path, point at the key?, message) for one jsonschema error."""
    path = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    custom = schema.get("x-messages", {}).get(err.validator)
    where = _where(path)
    v = err.validator
    if "propertyNames" in err.schema_path:
        key = err.instance
        names = schema.get("enum")
        if names is not None:
            kind = "action" if set(names) == set(actions.names()) else "matcher"
            return path + (key,), True, (f"unknown {kind} {key!r}{_did_you_mean(key, names)} "
                                         f"(known: {', '.join(names)})")
        return path + (key,), True, f"{where}: name {key!r} must be an identifier (letters, digits, _)"
    if v == "additionalProperties":
        known = _known_keys(schema)
        extra = sorted(k for k in err.instance if k not in schema.get("properties", {}))
        key = extra[0] if extra else None
        return (path + (key,) if key is not None else path), key is not None, (
            f"unknown key {key!r} in {where}{_did_you_mean(key, known)} (allowed: {', '.join(known)})")
    if custom:
        if v == "enum":
            if matchers.get(str(err.instance)) or actions.get(str(err.instance)):
                return path, False, f"{where}: {err.instance!r} needs parameters: write {err.instance}: {{...}}"
            return path, False, f"{where}: {custom}: {_short(err.instance)} (allowed: {', '.join(map(str, err.validator_value))})"
        if v == "maxProperties" and isinstance(err.instance, dict):
            return path, False, f"{where}: {custom} (got {', '.join(map(repr, err.instance))})"
        return path, False, f"{where}: {custom}"
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return path, False, f"{where}: missing required key {missing!r}"
    desc = schema.get("x-expected")
    if v in ("minimum", "maximum"):
        word = "at least" if v == "minimum" else "at most"
        return path, False, f"{where}: must be {word} {err.validator_value}, got {_short(err.instance)}"
    if v in ("type", "pattern") and desc:
        return path, False, f"{where}: expected {desc}, got {_yaml_type(err.instance)}"
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        return path, False, (f"{where}: expected {' or '.join(_TYPES.get(t, t) for t in want)}, "
                             f"got {_yaml_type(err.instance)}")
    if v == "enum":
        return path, False, (f"{where}: {_short(err.instance)} is not one of "
                             f"{', '.join(map(str, err.validator_value))}")
    if v == "const":
        return path, False, f"{where}: must be {err.validator_value!r}, got {_short(err.instance)}"
    if v == "pattern":
        return path, False, f"{where}: {_short(err.instance)} does not match {err.validator_value!r}"
    if v == "minItems":
        return path, False, f"{where}: needs at least {err.validator_value} item(s)"
    if v in ("minProperties", "maxProperties"):
        return path, False, f"{where}: {err.message}"
    if v == "anyOf" and "older_than" in str(err.validator_value):
        return path, False, f"{where}: age needs older_than or younger_than"
    return path, False, f"{where}: {err.message}"


def schema_errors(data: Any, validator: Any = None) -> list[tuple[tuple, bool, str]]:
    """Every schema problem of a parsed document (a policy file unless another ``validator`` is
    given), each reduced to its most specific error.

    An unknown key explains a missing one in the same mapping (a typo), so other problems
    of a mapping that has an unknown key are left out.
    """
    items: list[tuple[tuple, bool, str]] = []
    for err in (validator or _validator()).iter_errors(data):
        best = best_match([err]) if err.context else err
        item = describe_error(best)
        if item not in items:
            items.append(item)
    typo_in = {path[:-1] for path, key, _msg in items if key}
    return [it for it in items if it[1] or it[0] not in typo_in]
