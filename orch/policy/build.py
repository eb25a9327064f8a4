"""Build typed policy objects from one parsed file, collecting every problem with its position.

Layers: YAML (yamlpos) → schema (generated from the registry) → variables → templates and typed
objects (each matcher and action builds itself) → semantic checks. The loader raises the
first problem; lint reports them all.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from orch.actions.base import BaseAction
from orch.matchers.age import AgeMatcher
from orch.matchers.base import BaseMatcher
from orch.matchers.logic import AllMatcher
from orch.matchers.windows import empty_window  # noqa: F401  (also re-exported)
from orch.policy import schema as schema_mod
from orch.policy.model import (AnalysisQuery, ForEach, Limits, Policy, PolicyFile, Position, ProtectList, Scope,
                               Source)
from orch.policy.problems import Problem
from orch.policy.protect_entries import check_protect_entry  # noqa: F401  (also re-exported)
from orch.policy.render import RESOURCE_NAMES, TemplateError, is_template, render_value, undeclared_names
from orch.policy.variables import VarSpec, coerce_var, is_number
from orch.policy.yamlpos import Document, YamlError, load_bytes
from orch.registry import ActionSpec
from orch.registry import actions as action_registry
from orch.registry import matchers as matcher_registry
from orch.timeutil import parse_duration

VIA_RESOURCE = {"outputs": "ica.data", "output_folder": "ica.data",
                "bsshoutput_projects": "bssh.dataset", "run": "bssh.run"}


class FileBuilder:
    """Builds one ``PolicyFile``; implements the BuildContext the matchers and actions use."""

    def __init__(self, path: str, raw: bytes, overrides: dict[str, str] | None = None):
        self.path = path
        self.raw = raw
        self.overrides = overrides or {}
        self.problems: list[Problem] = []
        self.doc: Document | None = None
        self.vars: dict[str, Any] = {}
        self._named: dict[str, Any] = {}
        self._building: list[str] = []
        #: the file's ``group`` (matchers that default to "this group", e.g. ``managed``, read it)
        self.group = ""
        #: the document passed the schema (its structure can be trusted)
        self.schema_ok = False

    # ------------------------------------------------------------------ problems
    def error(self, path: tuple, message: str, key: bool = False) -> None:
        line, col = self.doc.pos(path, key=key) if self.doc else (1, 1)
        self.problems.append(Problem(self.path, line, col, message))

    def _at(self, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, col, message))

    # ------------------------------------------------------------------ BuildContext
    def render(self, value: Any, path: tuple) -> Any:
        if isinstance(value, list):
            out = [self.render(v, path + (i,)) for i, v in enumerate(value)]
            return None if any(v is None for v, raw in zip(out, value) if raw is not None) else out
        if not is_template(value):
            return value
        try:
            names = undeclared_names(value)
        except TemplateError as exc:
            self.error(path, str(exc))
            return None
        if not self._names_ok(names, path, per_resource=False):
            return None
        try:
            return render_value(value, self.vars)
        except TemplateError as exc:
            self.error(path, str(exc))
            return None

    def check_template(self, value: Any, path: tuple) -> str | None:
        """A per-resource template: parse it and check its names; keep it as written."""
        if not isinstance(value, str):
            self.error(path, f"expected a string, got {value!r}")
            return None
        try:
            names = undeclared_names(value)
        except TemplateError as exc:
            self.error(path, str(exc))
            return None
        return value if self._names_ok(names, path, per_resource=True) else None

    def _names_ok(self, names: set[str], path: tuple, per_resource: bool) -> bool:
        allowed = set(self.vars) | (RESOURCE_NAMES if per_resource else set())
        unknown = sorted(names - allowed)
        if not unknown:
            return True
        bad = unknown[0]
        if bad in RESOURCE_NAMES:
            self.error(path, f"{bad!r} is only available in per-resource templates "
                             "(manifest name, tag user_tags)")
        else:
            known = ", ".join(sorted(self.vars)) or "none"
            self.error(path, f"unknown variable {bad!r} in template (variables: {known})")
        return False

    def regex(self, value: Any, path: tuple) -> "re.Pattern[str] | None":
        rendered = self.render(value, path)
        if rendered is None:
            return None
        if not isinstance(rendered, str):
            self.error(path, f"a regex must be a string, got {rendered!r}")
            return None
        try:
            return re.compile(rendered)
        except re.error as exc:
            self.error(path, f"bad regex {rendered!r}: {exc}")
            return None

    def duration(self, value: Any, path: tuple) -> timedelta | None:
        rendered = self.render(value, path)
        if rendered is None:
            return None
        try:
            return parse_duration(str(rendered))
        except ValueError as exc:
            self.error(path, str(exc))
            return None

    def matcher(self, value: Any, path: tuple) -> BaseMatcher | None:
        if isinstance(value, str):
            cls = matcher_registry.get(value)
            if cls is None or not cls.bare:
                self.error(path, f"unknown matcher {value!r}")
                return None
            return cls.build(None, self, path)
        if isinstance(value, dict) and "field" in value:
            return matcher_registry.get("field").build(value, self, path)
        if isinstance(value, dict) and len(value) == 1:
            (name, params), = value.items()
            cls = matcher_registry.get(name)
            if cls is not None:
                return cls.build(params, self, path + (name,))
        self.error(path, f"not a matcher: {value!r}")
        return None

    def named(self, name: str, path: tuple) -> BaseMatcher | None:
        defs = (self.doc.data.get("matchers") or {}) if self.doc else {}
        if name not in defs:
            known = ", ".join(sorted(defs)) or "none defined"
            self.error(path, f"unknown named matcher {name!r} (matchers: {known})")
            return None
        if name in self._building:
            cycle = " -> ".join(self._building[self._building.index(name):] + [name])
            self.error(path, f"named matcher uses itself: {cycle}")
            return None
        if name not in self._named:
            self._building.append(name)
            try:
                self._named[name] = self.matcher(defs[name], ("matchers", name))
            finally:
                self._building.pop()
        return self._named[name]

    # ------------------------------------------------------------------ the file
    def build(self) -> PolicyFile | None:
        try:
            self.doc = load_bytes(self.raw)
        except YamlError as exc:
            self._at(exc.line, exc.column, exc.message)
            return None
        data = self.doc.data
        if data is None:
            self._at(1, 1, "empty policy file (expected a mapping with version, group, scope and policies)")
            return None
        if not isinstance(data, dict):
            # never the value itself: a key file given to lint by mistake must not be echoed (issue 16.3)
            kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value (is it a policy file?)"
            self._at(1, 1, f"the top level must be a mapping with version, group, scope and policies, got {kind}")
            return None
        for path, key, message in schema_mod.schema_errors(data):
            self.error(path, message, key=key)
        if self.problems:
            return None
        self.schema_ok = True
        self.group = data["group"]
        self._vars(data)
        if self.problems:
            return None  # everything below renders with the variables: bad values would only cascade
        scope = self._scope(data.get("scope") or {})
        protect = self._protect(data.get("protect") or {})
        for name in sorted(data.get("matchers") or {}):
            m = self.named(name, ("matchers", name))
            if m is not None:
                self._check_windows([m], ("matchers", name))
        policies = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(data["policies"]):
            if raw["name"] in seen:
                self.error(("policies", i, "name"), f"duplicate policy name {raw['name']!r} "
                                                    f"(also policies[{seen[raw['name']]}])")
            seen.setdefault(raw["name"], i)
            pol = self._policy(raw, ("policies", i), data["group"], scope)
            if pol is not None:
                policies.append(pol)
        pf = PolicyFile(path=self.path, sha256=hashlib.sha256(self.raw).hexdigest(),
                        version=data["version"], group=data["group"], vars=dict(self.vars),
                        scope=scope, policies=policies, protect=protect)
        for pol in policies:
            pol.file = pf
        return None if self.problems else pf

    def _vars(self, data: dict[str, Any]) -> None:
        specs = {name: VarSpec.parse(name, raw) for name, raw in (data.get("vars") or {}).items()}
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            where = ("vars", name, "default") if spec.long_form else ("vars", name)
            if is_template(spec.default):
                self.error(where, f"variable {name!r}: variables are literal values; "
                                  "templates are not rendered inside vars")
            for key, message in spec.declaration_problems():
                self.error(("vars", name, key), message)
            values[name] = spec.default
        given: dict[str, Any] = {}
        for name, text in self.overrides.items():
            if name not in specs:
                continue  # unknown names are reported by the loader (they may belong to another file)
            try:
                values[name] = given[name] = coerce_var(text, specs[name].default)
            except ValueError as exc:
                self.error(("vars", name), f"--var {name}={text!r} {exc} (the default is {specs[name].default!r})",
                           key=True)
        self.vars = values
        for name, spec in specs.items():
            self._check_var(spec, values[name], given)

    def _check_var(self, spec: VarSpec, value: Any, given: dict[str, Any]) -> None:
        """A value (from --var, or the default) against the variable's choices and range."""
        bounds: list[float | None] = []
        notes: list[str] = []
        for key in ("min", "max"):
            raw = getattr(spec, key)
            bound = self.render(raw, ("vars", spec.name, key)) if is_template(raw) else raw
            if bound is not None and not is_number(bound):
                self.error(("vars", spec.name, key), f"variable {spec.name!r}: {key} must be a number, got {bound!r}")
                return
            bounds.append(bound)
            if is_template(raw) and bound is not None:
                uses = [f"--var {n}={given[n]!r}" for n in sorted(undeclared_names(raw) & set(given))]
                notes.append(f"{key}: {raw.strip()}" + (f" with {', '.join(uses)}" if uses else ""))
        problem = spec.value_problem(value, bounds[0], bounds[1])
        if problem is None:
            return
        note = f" ({'; '.join(notes)})" if notes and ("minimum" in problem or "maximum" in problem) else ""
        if spec.name in given:
            self.error(("vars", spec.name), f"--var {spec.name}={value!r} {problem}{note}", key=True)
        else:
            self.error(("vars", spec.name, "default"), f"variable {spec.name!r}: the default {value!r} {problem}{note}")

    def _scope(self, raw: dict[str, Any]) -> Scope:
        def names(key: str) -> list[str]:
            out = []
            for i, v in enumerate(raw.get(key) or []):
                r = self.render(v, ("scope", key, i))
                if r is not None:
                    out.append(str(r))
            return out

        return Scope(ica_projects=names("ica_projects"), bssh_projects=names("bssh_projects"),
                     bssh_from_bsshoutput=bool(raw.get("bssh_from_bsshoutput", False)))

    def _protect(self, raw: dict[str, Any]) -> ProtectList:
        """``protect:`` rendered with the file's variables; every entry checked (see check_protect_entry)."""
        out = ProtectList()
        for key in ("names", "paths", "ids", "tags"):
            seen: dict[str, int] = {}
            for i, value in enumerate(raw.get(key) or []):
                path = ("protect", key, i)
                rendered = self.render(value, path)
                if rendered is None:
                    continue
                text = str(rendered)
                problem = check_protect_entry(key, text)
                if problem is None and text in seen:
                    problem = f"duplicate protect {key} entry {text!r} (also protect.{key}[{seen[text]}])"
                if problem:
                    self.error(path, problem)
                    continue
                seen[text] = i
                getattr(out, key).append(text)
        return out

    def _filters(self, raw: list[Any] | None, path: tuple, kind: str) -> list[BaseMatcher] | None:
        built = []
        ok = True
        for i, item in enumerate(raw or []):
            m = self.matcher(item, path + (i,))
            if m is None:
                ok = False
                continue
            for sub in m.walk():
                if sub.resource_kinds is not None and kind not in sub.resource_kinds:
                    self.error(path + (i,), f"matcher {sub.name!r} does not apply to {kind} resources "
                                            f"(only {', '.join(sorted(sub.resource_kinds))})")
                    ok = False
                    break
            built.append(m)
        if ok and built:
            self._check_windows(built, path)
        return built if ok else None

    def _policy(self, raw: dict[str, Any], path: tuple, group: str, scope: Scope) -> Policy | None:
        before = len(self.problems)
        kind = raw["resource"]
        enabled = self.render(raw.get("enabled", True), path + ("enabled",))
        if enabled is not None and not isinstance(enabled, bool):
            if isinstance(enabled, str) and enabled.strip().lower() in ("true", "false"):
                enabled = enabled.strip().lower() == "true"
            else:
                self.error(path + ("enabled",), f"enabled must render to true or false, got {enabled!r}")
        project = None
        if "project" in raw:
            project = self.render(raw["project"], path + ("project",))
            if kind.startswith("bssh."):
                self.error(path + ("project",), f"project names an ICA project; {kind} policies do not take one")
            else:
                self._in_scope(project, scope, path + ("project",))
        source = self._source(raw, path, kind, scope, project)
        if kind == "bssh.trash":
            for key in ("filters", "for_each"):
                if raw.get(key):
                    self.error(path + (key,), f"bssh.trash policies take no {key}")
        filters = self._filters(raw.get("filters"), path + ("filters",), kind)
        for_each = self._for_each(raw, path, kind)
        allow_destructive = bool(raw.get("allow_destructive", False))
        specs = self._actions(raw, path, kind, scope, allow_destructive)
        limits = self._limits(raw.get("max_resources"), path + ("max_resources",))
        if len(self.problems) > before or filters is None:
            return None
        line, col = self.doc.pos(path)
        description = self.render(raw["description"], path + ("description",))
        if description is None:
            return None
        return Policy(name=raw["name"], description=str(description), resource=kind, group=group,
                      enabled=bool(enabled), project=project, source=source, filters=filters,
                      for_each=for_each, actions=specs, limits=limits, allow_destructive=allow_destructive,
                      pos=Position(self.path, line, col))

    def _source(self, raw: dict[str, Any], path: tuple, kind: str, scope: Scope, project: Any) -> Source | None:
        """``from:`` (analyses of a project, and the relation to the policy's resources), with its checks."""
        source = None
        if "from" in raw:
            src = raw["from"]
            via = src["via"]
            if VIA_RESOURCE[via] != kind:
                self.error(path + ("from", "via"), f"via {via} gives {VIA_RESOURCE[via]} resources, "
                                                   f"but the policy's resource is {kind}")
            aproj = self.render(src["analyses"]["project"], path + ("from", "analyses", "project"))
            self._in_scope(aproj, scope, path + ("from", "analyses", "project"))
            afilters = self._filters(src["analyses"].get("filters"), path + ("from", "analyses", "filters"),
                                     "ica.analysis")
            if project is not None:
                self.error(path + ("project",), "give either project or from, not both")
            if isinstance(aproj, str) and afilters is not None:
                source = Source(AnalysisQuery(aproj, afilters), via)
        elif kind in ("ica.analysis", "ica.data") and "project" not in raw:
            self.error(path, f"an {kind} policy needs project (or from)")
        if kind == "bssh.dataset" and "from" not in raw and not scope.bssh_projects:
            self.error(path, "a bssh.dataset policy without from selects the datasets of scope.bssh_projects, "
                             "which is empty: add from or list the projects")
        if kind in ("ica.analysis", "bssh.trash") and "from" in raw:
            self.error(path + ("from",), f"{kind} policies do not take from")
        return source

    def _for_each(self, raw: dict[str, Any], path: tuple, kind: str) -> ForEach | None:
        if "for_each" not in raw:
            return None
        if kind != "ica.analysis":
            self.error(path + ("for_each",), "for_each is only for ica.analysis policies")
        out = raw["for_each"]["outputs"] or {}
        recursive = self.render(out.get("recursive", True), path + ("for_each", "outputs", "recursive"))
        ffilters = self._filters(out.get("filters"), path + ("for_each", "outputs", "filters"), "ica.data")
        return None if ffilters is None else ForEach("outputs", recursive=bool(recursive), filters=ffilters)

    def _actions(self, raw: dict[str, Any], path: tuple, kind: str, scope: Scope,
                 allow_destructive: bool) -> list[ActionSpec]:
        """Each action builds itself; the checks every kind states about itself (resource kinds,
        for_each, destructive, destinations in scope) are applied here."""
        allowed = {kind} | ({"ica.data"} if "for_each" in raw else set())
        specs = []
        for i, item in enumerate(raw["actions"]):
            apath = path + ("actions", i)
            name, params = (item, None) if isinstance(item, str) else next(iter(item.items()))
            cls: type[BaseAction] = action_registry.get(name)  # type: ignore[assignment]
            spec = cls.build(params, self, apath if params is None else apath + (name,))
            if spec is None:
                continue
            specs.append(spec)
            if not (cls.resource_kinds & allowed):
                self.error(apath, f"action {name!r} does not apply to {kind} resources "
                                  f"(only {', '.join(sorted(cls.resource_kinds))})")
            if cls.needs_for_each and "for_each" not in raw:
                self.error(apath, f"{name} {cls.needs_for_each}: the policy needs for_each")
            if cls.is_destructive(spec.values()) and not allow_destructive:
                self.error(apath, f"action {name!r} is destructive: the policy must say allow_destructive: true")
            problem = cls.policy_problem(spec.params, kind, "for_each" in raw)
            if problem is not None:
                self.error(apath + (name, problem[0]), problem[1])
            for key, dest in cls.destinations(spec.params).items():
                self._in_scope(dest, scope, apath + (name, key))
        return specs

    def _limits(self, mr: dict[str, Any] | None, path: tuple) -> Limits:
        limits = Limits()
        if mr is None:
            return limits
        if "count" in mr:
            c = self.render(mr["count"], path + ("count",))
            if isinstance(c, bool) or not isinstance(c, int) or c < 0:
                if c is not None:
                    self.error(path + ("count",), f"count must be a whole number >= 0, got {c!r}")
            else:
                limits.max_count = c
        if "percent" in mr:
            pc = self.render(mr["percent"], path + ("percent",))
            if isinstance(pc, bool) or not isinstance(pc, (int, float)) or not 0 <= pc <= 100:
                if pc is not None:
                    self.error(path + ("percent",), f"percent must be 0-100, got {pc!r}")
            else:
                limits.max_percent = float(pc)
        return limits

    def _in_scope(self, project: Any, scope: Scope, path: tuple) -> None:
        if isinstance(project, str) and project not in scope.ica_projects:
            listed = ", ".join(scope.ica_projects) or "none"
            self.error(path, f"ICA project {project!r} is outside the file's scope (scope.ica_projects: {listed})")

    # ------------------------------------------------------------------ age windows
    def _check_windows(self, conj: list[BaseMatcher], path: tuple) -> None:
        """Report age windows that no timestamp can satisfy, in a conjunction and in nested alls."""
        msg = empty_window(conj)
        if msg:
            self.error(path, f"contradictory age window: {msg}")
            return
        for m in conj:
            for sub in m.walk():
                if isinstance(sub, AllMatcher):
                    msg = empty_window(list(sub.params.items))
                elif isinstance(sub, AgeMatcher):
                    msg = empty_window([sub])
                else:
                    continue
                if msg:
                    self.error(path, f"contradictory age window: {msg}")
                    return
