"""Sandbox: ICA's notification API (channels, project subscriptions, event codes) and delivery of
events to SQS queues served by the sandbox's moto server.

Routes (ica-openapi.yaml): ``GET/POST /api/notificationChannels``, ``GET/DELETE
/api/notificationChannels/{channelId}``, ``GET/POST /api/projects/{projectId}/notificationSubscriptions``,
``DELETE .../notificationSubscriptions/{subscriptionId}``, ``GET /api/eventCodes``. Only SQS channels
deliver here (MAIL/SNS/HTTP are stored and listed, never sent). Creating an SQS channel for a queue
that does not exist is refused (400), as ICA cannot deliver to it (its check itself is unverified).

Events emitted when work settles on the sandbox clock: ``ICA_EXEC_028`` (and ``ICA_EXEC_002`` /
``ICA_EXEC_001``) when an analysis with ``finishAt`` finishes; ``ICA_DATA_110`` archived,
``ICA_DATA_106`` deleted, ``ICA_DATA_100`` for other data status changes (unarchived). Envelope
fields follow public consumers of ICA's events (verified: eventCode, eventParameters with
analysisStatus/analysisPreviousStatus/pipelineExecution, projectId, payloadVersion, payload, timestamp,
correlationId, description); the ProjectData payload shape of data events is inferred from the API.
While a subscription exists a ticker settles the world every ``TICK_S`` so events are not held back
until the next request.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from orch.sandbox.web import Ctx, HttpError, Route, json_response
from orch.timeutil import format_ts

if TYPE_CHECKING:  # pragma: no cover
    from orch.sandbox.server import Sandbox

TICK_S = 0.2
EVENT_CODES = {
    "ICA_EXEC_001": "Analysis failure", "ICA_EXEC_002": "Analysis success", "ICA_EXEC_027": "Analysis aborted",
    "ICA_EXEC_028": "Analysis status changed", "ICA_DATA_100": "Data status changed",
    "ICA_DATA_104": "Data linked to project", "ICA_DATA_106": "Data deleted", "ICA_DATA_107": "Data created",
    "ICA_DATA_108": "Data uploaded", "ICA_DATA_109": "Data updated", "ICA_DATA_110": "Data archived",
}
CHANNEL_TYPES = ("MAIL", "SQS", "SNS", "HTTP")
OWNER_ID, TENANT_ID = "a9938581-0000-4000-8000-00000000000a", "1555b441-0000-4000-8000-00000000000b"


@dataclass
class Channel:
    id: str
    type: str
    address: str
    enabled: bool
    aws_region: str | None
    time_created: datetime

    def json(self) -> dict[str, Any]:
        t = format_ts(self.time_created)
        return {"id": self.id, "type": self.type, "address": self.address, "enabled": self.enabled,
                "awsRegion": self.aws_region, "ownerId": OWNER_ID, "tenantId": TENANT_ID, "tenantName": "sandbox",
                "timeCreated": t, "timeModified": t}


@dataclass
class Subscription:
    id: str
    project_id: str
    event_code: str
    channel: Channel
    enabled: bool
    payload_version: str | None
    filter_expression: str | None
    time_created: datetime

    def json(self) -> dict[str, Any]:
        t = format_ts(self.time_created)
        return {"id": self.id, "eventCode": self.event_code, "enabled": self.enabled,
                "filterExpression": self.filter_expression, "payloadVersion": self.payload_version,
                "notificationChannel": self.channel.json(), "ownerId": OWNER_ID, "tenantId": TENANT_ID,
                "tenantName": "sandbox", "timeCreated": t, "timeModified": t}


class Notifications:
    """One per sandbox (``sandbox.notifications``)."""

    def __init__(self, sandbox: "Sandbox"):
        self.sandbox = sandbox
        self.channels: dict[str, Channel] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.delivered: list[dict[str, Any]] = []  # every event sent (tests, debugging)
        self._client: Any = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # -- SQS (the sandbox's moto server)
    def sqs(self) -> Any:
        if self._client is None:
            import boto3

            s3 = self.sandbox.s3
            access, secret, token = s3.credentials()
            self._client = boto3.client("sqs", endpoint_url=s3.endpoint_url, region_name=s3.region,
                                        aws_access_key_id=access, aws_secret_access_key=secret,
                                        aws_session_token=token)
        return self._client

    def create_queue(self, name: str) -> str:
        return self.sqs().create_queue(QueueName=name)["QueueUrl"]

    def _queue_exists(self, url: str) -> bool:
        try:
            self.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        except Exception:  # noqa: BLE001 - any failure means ICA could not deliver there
            return False
        return True

    # -- the settle hook: what is about to change, then what did
    def before_settle(self, now: datetime) -> list[tuple[str, str, Any]] | None:
        if not any(s.enabled for s in self.subscriptions.values()):
            return None
        world = self.sandbox.world
        seen = []
        for due, _, kind, key in world._due:  # noqa: SLF001 - the due heap is the only index of what settles
            if due > now:
                continue
            if kind == "data" and (item := world.data_by_id.get(key)) is not None:
                seen.append(("data", key, (item.status, [p.id for p in world.projects_of(item)], item)))
            elif kind == "analysis" and (a := world.analysis_by_key(key)) is not None:
                seen.append(("analysis", key, a.status))
        return seen

    def after_settle(self, seen: list[tuple[str, str, Any]] | None, now: datetime) -> None:
        if not seen:
            return
        world = self.sandbox.world
        for kind, key, before in seen:
            if kind == "analysis":
                a = world.analysis_by_key(key)
                if a is not None and a.status != before:
                    self._analysis_events(key.split("/", 1)[0], a, before, now)
                continue
            status, projects, item = before
            current = world.data_by_id.get(key)
            after = current.status if current is not None else "DELETED"
            if after == status:
                continue
            code = {"ARCHIVED": "ICA_DATA_110", "DELETED": "ICA_DATA_106"}.get(after, "ICA_DATA_100")
            for pid in projects:
                self._emit(pid, code, {}, lambda v4, pid=pid: self._data_payload(item, pid, after), now)

    def _analysis_events(self, project_id: str, a: Any, before: str, now: datetime) -> None:
        from orch.sandbox.ica_api import analysis_json

        params = {"pipelineExecution": a.id, "analysisPreviousStatus": before, "analysisStatus": a.status}
        codes = ["ICA_EXEC_028"] + (["ICA_EXEC_002"] if a.status == "SUCCEEDED" else
                                    ["ICA_EXEC_001"] if a.status in ("FAILED", "FAILEDFINAL") else [])
        for code in codes:
            self._emit(project_id, code, params, lambda v4: analysis_json(a, v4), now)

    @staticmethod
    def _data_payload(item: Any, project_id: str, status: str) -> dict[str, Any]:
        return {"projectId": project_id, "data": {"id": item.id, "details": {
            "name": item.name, "path": item.path, "status": status,
            "dataType": "FOLDER" if item.is_folder else "FILE", "owningProjectId": item.owner.id}}}

    def _emit(self, project_id: str, code: str, params: dict, payload, now: datetime) -> None:
        for sub in list(self.subscriptions.values()):
            if not (sub.enabled and sub.channel.enabled and sub.project_id == project_id and sub.event_code == code):
                continue
            version = (sub.payload_version or "V3").lower()
            body = {"correlationId": str(uuid.uuid4()), "timestamp": format_ts(now), "eventCode": code,
                    "eventParameters": params, "description": EVENT_CODES.get(code, code),
                    "projectId": project_id, "payloadVersion": version, "payload": payload(version == "v4")}
            self.delivered.append(body)
            if sub.channel.type == "SQS":
                try:
                    self.sqs().send_message(QueueUrl=sub.channel.address, MessageBody=json.dumps(body))
                except Exception:  # noqa: BLE001 - ICA keeps a failed delivery; the sandbox just drops it
                    import logging

                    logging.getLogger("orch.sandbox").warning("notification to %s failed", sub.channel.address)

    # -- ticker: settle on the clock, not only on requests, while anybody listens
    def _ensure_ticker(self) -> None:
        if self._ticker is not None:
            return

        def tick() -> None:
            while not self._stop.wait(TICK_S):
                sb = self.sandbox
                with sb.lock:
                    sb.settle(sb.clock.now())

        self._ticker = threading.Thread(target=tick, name="orch-sandbox-notify", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None


# ---------------------------------------------------------------- routes
def _n(ctx: Ctx) -> Notifications:
    return ctx.sandbox.notifications


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return body


def list_channels(ctx: Ctx) -> Response:
    return json_response({"items": [c.json() for c in _n(ctx).channels.values()]})


def create_channel(ctx: Ctx) -> Response:
    body, n = _body(ctx), _n(ctx)
    ctype, address = body.get("type"), body.get("address")
    if ctype not in CHANNEL_TYPES:
        raise HttpError(400, f"type must be one of {', '.join(CHANNEL_TYPES)}")
    if not isinstance(address, str) or not 1 <= len(address) <= 100:
        raise HttpError(400, "address is required (1 to 100 characters)")
    if not isinstance(body.get("enabled"), bool):
        raise HttpError(400, "enabled is required (true or false)")
    if ctype == "SQS" and not n._queue_exists(address):
        raise HttpError(400, f"no SQS queue at {address}")
    ch = Channel(id=str(uuid.uuid4()), type=ctype, address=address, enabled=body["enabled"],
                 aws_region=body.get("awsRegion"), time_created=ctx.now)
    n.channels[ch.id] = ch
    return json_response(ch.json(), 201)


def get_channel(ctx: Ctx, channelId: str) -> Response:
    ch = _n(ctx).channels.get(channelId)
    if ch is None:
        raise HttpError(404, f"notification channel {channelId} not found")
    return json_response(ch.json())


def delete_channel(ctx: Ctx, channelId: str) -> Response:
    n = _n(ctx)
    if channelId not in n.channels:
        raise HttpError(404, f"notification channel {channelId} not found")
    if any(s.channel.id == channelId for s in n.subscriptions.values()):
        raise HttpError(409, "the channel is used by subscriptions; delete them first")
    del n.channels[channelId]
    return Response(status=204)


def _project_id(ctx: Ctx, projectId: str) -> str:
    if projectId not in ctx.world.projects_by_id:
        raise HttpError(404, f"project {projectId} not found")
    return projectId


def list_subscriptions(ctx: Ctx, projectId: str) -> Response:
    pid = _project_id(ctx, projectId)
    return json_response({"items": [s.json() for s in _n(ctx).subscriptions.values() if s.project_id == pid]})


def create_subscription(ctx: Ctx, projectId: str) -> Response:
    pid, body, n = _project_id(ctx, projectId), _body(ctx), _n(ctx)
    code, cid = body.get("eventCode"), body.get("notificationChannelId")
    if not isinstance(code, str) or not 1 <= len(code) <= 20:
        raise HttpError(400, "eventCode is required (1 to 20 characters)")
    if code not in EVENT_CODES:
        raise HttpError(400, f"unknown eventCode {code}")
    if not isinstance(body.get("enabled"), bool):
        raise HttpError(400, "enabled is required (true or false)")
    channel = n.channels.get(cid or "")
    if channel is None:
        raise HttpError(400, f"notification channel {cid} not found")
    version = body.get("payloadVersion")
    if version is not None and str(version).upper() not in ("V3", "V4"):
        raise HttpError(400, "payloadVersion must be V3 or V4")
    sub = Subscription(id=str(uuid.uuid4()), project_id=pid, event_code=code, channel=channel,
                       enabled=body["enabled"], payload_version=str(version).upper() if version else None,
                       filter_expression=body.get("filterExpression"), time_created=ctx.now)
    n.subscriptions[sub.id] = sub
    n._ensure_ticker()
    return json_response(sub.json(), 200)  # the API answers 200 here (201 for channels)


def delete_subscription(ctx: Ctx, projectId: str, subscriptionId: str) -> Response:
    pid, n = _project_id(ctx, projectId), _n(ctx)
    sub = n.subscriptions.get(subscriptionId)
    if sub is None or sub.project_id != pid:
        raise HttpError(404, f"notification subscription {subscriptionId} not found")
    del n.subscriptions[subscriptionId]
    return Response(status=204)


def event_codes(ctx: Ctx) -> Response:
    return json_response({"items": [{"eventCode": c, "description": d} for c, d in EVENT_CODES.items()]})


def create_queue_route(ctx: Ctx) -> Response:
    """Control route (not ICA): ``POST /_sandbox/sqs/queues {"name": "orch-events"}`` creates a queue
    on the sandbox's moto server and returns its URL (what an AWS account would hold)."""
    name = _body(ctx).get("name") or "orch-events"
    return json_response({"queue_url": _n(ctx).create_queue(str(name)), "endpoint_url": ctx.sandbox.s3.endpoint_url})


P = "/api/projects/<projectId>/notificationSubscriptions"
ROUTES: list[Route] = [
    Route("GET", "/api/notificationChannels", list_channels),
    Route("POST", "/api/notificationChannels", create_channel),
    Route("GET", "/api/notificationChannels/<channelId>", get_channel),
    Route("DELETE", "/api/notificationChannels/<channelId>", delete_channel),
    Route("GET", P, list_subscriptions),
    Route("POST", P, create_subscription),
    Route("DELETE", P + "/<subscriptionId>", delete_subscription),
    Route("GET", "/api/eventCodes", event_codes),
]
CONTROL_ROUTES: list[Route] = [Route("POST", "/_sandbox/sqs/queues", create_queue_route)]
