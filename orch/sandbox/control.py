"""Sandbox control routes (not part of either platform) and file up/download URLs."""

from __future__ import annotations

import hmac

from werkzeug.wrappers import Response

from orch.sandbox.web import Ctx, HttpError, Route, json_response
from orch.timeutil import parse_duration, parse_ts


def get_state(ctx: Ctx) -> Response:
    return json_response(ctx.sandbox.dump_state())


def move_clock(ctx: Ctx) -> Response:
    body = ctx.json_body()
    if not isinstance(body, dict) or len(body) != 1 or not ({"advance", "now"} & set(body)):
        raise HttpError(400, 'give {"advance": "7h"} or {"now": "ISO8601"}')
    clock = ctx.sandbox.clock
    try:
        if "advance" in body:
            clock.advance(parse_duration(body["advance"]))
        else:
            when = parse_ts(body["now"])
            if when is None:
                raise ValueError("now is empty")
            clock.jump_to(when)
    except (ValueError, TypeError) as exc:
        raise HttpError(400, str(exc)) from None
    now = clock.now()
    ctx.sandbox.settle(now)
    from orch.timeutil import format_ts

    return json_response({"now": format_ts(now)})


def get_requests(ctx: Ctx) -> Response:
    return json_response(ctx.sandbox.request_counts())


def reset_requests(ctx: Ctx) -> Response:
    ctx.sandbox.reset_request_counts()
    return json_response(ctx.sandbox.request_counts())


def refuse_route(ctx: Ctx) -> Response:
    """``{"route": "DELETE /v2/datasets/{id}", "refuse": true}``: answer it like an unknown route (or not)."""
    from orch.errors import ConfigError
    from orch.sandbox.server import normalise_route

    body = ctx.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("route"), str):
        raise HttpError(400, 'give {"route": "METHOD /path", "refuse": true|false}')
    try:
        route = normalise_route(body["route"])
    except ConfigError as exc:
        raise HttpError(400, str(exc)) from None
    (ctx.world.refused_routes.add if body.get("refuse", True) else ctx.world.refused_routes.discard)(route)
    return json_response({"refused": sorted(ctx.world.refused_routes)})


def _file(ctx: Ctx, dataId: str, op: str):
    token = ctx.arg("token") or ""
    if not hmac.compare_digest(token, ctx.sandbox.file_token(dataId, op)):
        raise HttpError(403, "this URL is not valid for that file")
    item = ctx.world.data_by_id.get(dataId)
    if item is None:
        raise HttpError(404, f"data {dataId} not found")
    return item


def download(ctx: Ctx, dataId: str) -> Response:
    item = _file(ctx, dataId, "get")
    if item.status != "AVAILABLE":
        raise HttpError(400, f"data {dataId} is {item.status}")
    return Response(item.content or b"", content_type="application/octet-stream")


def upload(ctx: Ctx, dataId: str) -> Response:
    item = _file(ctx, dataId, "put")
    if item.status != "PARTIAL":
        raise HttpError(400, f"data {dataId} is {item.status}; only PARTIAL files can be uploaded to")
    ctx.sandbox.absorb_upload(item, ctx.request.get_data(), ctx.now)
    return Response(status=200)


ROUTES = [
    Route("GET", "/_sandbox/state", get_state),
    Route("POST", "/_sandbox/clock", move_clock),
    Route("GET", "/_sandbox/requests", get_requests),
    Route("POST", "/_sandbox/requests:reset", reset_requests),
    Route("POST", "/_sandbox/refuse", refuse_route),
    Route("GET", "/_sandbox/files/<dataId>", download),
    Route("PUT", "/_sandbox/files/<dataId>", upload),
]
