"""Base class of the registered matchers: three-valued evaluation that fails closed.

``evaluate`` returns True, False or None (unknown: the field is missing or not a timestamp).
``not`` of unknown is unknown, so a resource is selected only when its filters are *true*:
``matches`` is ``evaluate(...) is True``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, ClassVar, Protocol

from orch.inventory import Resource
from orch.registry import EvalContext, Matcher

Path = tuple  # a path into the YAML document: keys and list indices


class BuildContext(Protocol):
    """What a matcher or action needs while it is built from YAML (see orch/policy/build.py).

    Each method records a problem at ``path`` and returns None when the value is bad.
    """

    group: str  # the ``group`` of the file being built

    def matcher(self, value: Any, path: Path) -> "BaseMatcher | None": ...

    def named(self, name: str, path: Path) -> "BaseMatcher | None": ...

    def render(self, value: Any, path: Path) -> Any: ...

    def regex(self, value: Any, path: Path) -> "re.Pattern[str] | None": ...

    def duration(self, value: Any, path: Path) -> timedelta | None: ...

    def check_template(self, value: Any, path: Path) -> str | None: ...

    def error(self, path: Path, message: str) -> None: ...


class BaseMatcher(Matcher):
    """A registered matcher: ``Matcher`` (evaluate, walk, fields, cost, explain) plus building from YAML."""

    #: the typed parameters; instances keep them in ``self.params``
    Params: ClassVar[type]
    #: may be written as a bare word (``managed``)
    bare: ClassVar[bool] = False
    #: one-line description for the reference docs
    doc: ClassVar[str] = ""
    example: ClassVar[str] = ""

    def __init__(self, params: Any):
        self.params = params

    @classmethod
    def build(cls, value: Any, b: BuildContext, path: Path) -> "BaseMatcher | None":
        raise NotImplementedError

    def evaluate(self, resource: Resource, ctx: EvalContext) -> bool | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def as_text(value: Any) -> str:
    """The string form used by regex/glob comparisons (YAML booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
