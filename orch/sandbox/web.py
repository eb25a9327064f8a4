"""Small HTTP helpers shared by the sandbox's ICA, BaseSpace and control routes."""

from __future__ import annotations

import json
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from orch.timeutil import format_ts

if TYPE_CHECKING:  # pragma: no cover
    from orch.sandbox.server import Sandbox

V3 = "application/vnd.illumina.v3+json"
V4 = "application/vnd.illumina.v4+json"


class HttpError(Exception):
    """Raised by a handler; each API turns it into its own error body."""

    def __init__(self, status: int, message: str, title: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title


@dataclass
class Ctx:
    """What a handler sees: the request, the sandbox and the sandbox clock's now."""

    request: Request
    sandbox: "Sandbox"
    now: datetime

    @property
    def world(self):
        return self.sandbox.world

    def json_body(self) -> Any:
        raw = self.request.get_data()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise HttpError(400, "the request body is not valid JSON") from None

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.request.args.get(name, default)

    def arg_ci(self, name: str, default: str | None = None) -> str | None:
        """A query parameter looked up case-insensitively (BaseSpace)."""
        low = name.lower()
        for key, value in self.request.args.items(multi=True):
            if key.lower() == low:
                return value
        return default

    def int_arg(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None,
                ci: bool = False) -> int:
        raw = self.arg_ci(name) if ci else self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, f"query parameter {name} must be an integer, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise HttpError(400, f"query parameter {name} must be {bound}, got {value}")
        return value

    def list_arg(self, name: str, *, split_commas: bool = False, ci: bool = False) -> list[str]:
        """Repeated values (``a=1&a=2``, also ``a[]=1``); BaseSpace also comma-separates them."""
        names = {name.lower(), name.lower() + "[]"} if ci else {name, name + "[]"}
        out: list[str] = []
        for key, raw in self.request.args.items(multi=True):
            if (key.lower() if ci else key) not in names:
                continue
            out.extend(v.strip() for v in raw.split(",") if v.strip()) if split_commas else out.append(raw)
        return out


@lru_cache(maxsize=8192)
def ts(dt: datetime | None) -> str | None:
    """``format_ts``, cached: big worlds share few distinct timestamps."""
    return format_ts(dt)


def json_response(body: Any, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, content_type=content_type)


@dataclass(eq=False)
class Route:
    method: str
    rule: str  # werkzeug rule relative to the API prefix, e.g. /api/projects/<projectId>
    handler: Callable[..., Response]

    @property
    def template(self) -> str:
        """The route as counted by /_sandbox/requests, e.g. ``GET /api/projects/{projectId}``."""
        return f"{self.method} " + self.rule.replace("<", "{").replace(">", "}")

    def werkzeug_rule(self, prefix: str) -> Rule:
        return Rule(prefix + self.rule, methods=[self.method], endpoint=self)
