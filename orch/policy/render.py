"""Templates: a sandboxed Jinja2 environment where an undefined name is an error.

File-level templates are rendered once at load time with the file's variables; per-resource
templates (``manifest.name``, ``tag.user_tags``) are kept as written and rendered by the planner
with :func:`render_template` or :func:`render_for_resource`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

_MAX_SIZE = 100_000


class _Env(ImmutableSandboxedEnvironment):
    """The sandbox, plus bounds on ``*`` and ``**`` so a template cannot hang lint or the planner."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > 64:
                raise jinja2.exceptions.SecurityError("exponent too large in template")
            return left ** right
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > _MAX_SIZE:
                raise jinja2.exceptions.SecurityError("template result too large")
        return left * right


_ENV = _Env(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)

#: names a per-resource template may use besides the variables
RESOURCE_NAMES = frozenset({"analysis", "resource"})


class TemplateError(ValueError):
    """A template does not parse, or uses an undefined name, or fails while rendering."""


def is_template(text: Any) -> bool:
    return isinstance(text, str) and ("{{" in text or "{%" in text or "{#" in text)


def _single_expression(text: str) -> str | None:
    """The expression of a string that is exactly ``{{ expr }}``, else None."""
    s = text.strip()
    if s.startswith("{{") and s.endswith("}}") and s.count("{{") == 1 and s.count("}}") == 1:
        if "{%" not in s and "{#" not in s:
            return s[2:-2].strip()
    return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined name in template: {exc.message}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax error: {exc.message}"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"template not allowed: {exc}"
    return f"template failed: {type(exc).__name__}: {exc}"


@lru_cache(maxsize=4096)
def _names(text: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(_ENV.parse(text)))


@lru_cache(maxsize=4096)
def _compiled(text: str) -> jinja2.Template:
    return _ENV.from_string(text)


@lru_cache(maxsize=4096)
def _expression(expr: str):
    return _ENV.compile_expression(expr, undefined_to_none=False)


def undeclared_names(text: str) -> set[str]:
    """Names a template reads from its context (raises TemplateError when it does not parse)."""
    try:
        return set(_names(text))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(_describe(exc)) from None


def render_template(template: str, context: dict[str, Any]) -> str:
    """Render ``template`` to a string; an undefined name raises TemplateError."""
    try:
        return _compiled(template).render(**context)
    except Exception as exc:  # Jinja raises many kinds; all become one clear message
        raise TemplateError(_describe(exc)) from None


def render_value(text: str, context: dict[str, Any]) -> Any:
    """Render a file-level value. ``"{{ expr }}"`` alone keeps the expression's type."""
    if not is_template(text):
        return text
    expr = _single_expression(text)
    if expr is not None:
        try:
            value = _expression(expr)(**context)
            if isinstance(value, jinja2.Undefined):
                str(value)  # raises UndefinedError with Jinja's own message
            return value
        except Exception as exc:
            raise TemplateError(_describe(exc)) from None
    return render_template(text, context)


def render_for_resource(template: str, variables: dict[str, Any], *, analysis: Any = None,
                        resource: Any = None) -> str:
    """Render a per-resource template: the variables plus ``analysis``/``resource`` field views."""
    ctx = dict(variables)
    if analysis is not None:
        ctx["analysis"] = analysis.field_view() if hasattr(analysis, "field_view") else analysis
    if resource is not None:
        ctx["resource"] = resource.field_view() if hasattr(resource, "field_view") else resource
    return render_template(template, ctx)
