"""Policy variables: the plain form ``name: default`` and the long form with allowed values.

Long form: ``name: {default: X, choices: [...], min: N, max: N, description: "..."}``. A ``--var``
value is converted to the default's type (:func:`coerce_var`), then checked against ``choices`` and
the ``min``/``max`` range; lint checks the defaults the same way. ``min``/``max`` may be a template
over the other variables (``min: "{{ days_to_archive + 1 }}"``), rendered with the final values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

Scalar = Union[str, int, float, bool]
#: the keys of the long form, in the order the docs list them
LONG_FORM_KEYS = ("default", "choices", "min", "max", "description")


def coerce_var(text: str, default: Any) -> Any:
    """Convert a ``--var`` string to the type of the variable's default (ValueError if it cannot)."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise ValueError("is not a boolean (use true or false)")
    if isinstance(default, int):
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("is not a whole number") from None
    if isinstance(default, float):
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError("is not a number") from None
    return text


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if is_number(value) else "string"


@dataclass(frozen=True)
class VarSpec:
    """One declared variable. ``min``/``max`` are numbers or templates (rendered by the builder)."""

    name: str
    default: Scalar
    choices: tuple[Scalar, ...] | None = None
    min: float | str | None = None
    max: float | str | None = None
    description: str = ""
    long_form: bool = False

    @classmethod
    def parse(cls, name: str, raw: Any) -> "VarSpec":
        """From a schema-valid ``vars`` entry: a mapping is the long form, anything else a default."""
        if not isinstance(raw, dict):
            return cls(name, raw)
        choices = raw.get("choices")
        return cls(name, raw["default"], tuple(choices) if choices is not None else None,
                   raw.get("min"), raw.get("max"), raw.get("description", ""), long_form=True)

    def declaration_problems(self) -> list[tuple[str, str]]:
        """(key, message) for a long form that cannot work whatever the value (checked once per file)."""
        out: list[tuple[str, str]] = []
        kind = _kind(self.default)
        for c in self.choices or ():
            if _kind(c) != kind:
                out.append(("choices", f"variable {self.name!r}: choice {c!r} is a {_kind(c)}, "
                                       f"but the default {self.default!r} is a {kind}"))
                break
        for key in ("min", "max"):
            if getattr(self, key) is not None and kind != "number":
                out.append((key, f"variable {self.name!r}: {key} applies to number variables, "
                                 f"but the default {self.default!r} is a {kind}"))
        return out

    def value_problem(self, value: Any, low: float | None, high: float | None) -> str | None:
        """Why ``value`` is not allowed (completes "--var NAME=VALUE ..."), or None."""
        if self.choices is not None and value not in self.choices:
            return f"is not one of: {', '.join(str(c) for c in self.choices)}"
        if is_number(value):
            if low is not None and value < low:
                return f"is less than the minimum {_num(low)}"
            if high is not None and value > high:
                return f"is more than the maximum {_num(high)}"
        return None


def _num(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
