"""``orch events setup``: what ICA needs to send its events to orch's SQS queue.

Prints (or with ``--apply`` creates through the ICA API, idempotently) one SQS notification channel
for the queue and, for each ICA project of the policies' scopes, one subscription per event code
that can change a plan (``orch.ops.events.PLAN_CODES``); and prints the SQS queue policy that lets
ICA's AWS account send to the queue (Illumina's docs: principal ``arn:aws:iam::079623148045:root``,
action ``sqs:SendMessage`` on the queue; verified in the ICA notifications page).

The notification routes are called here directly (``X-API-Key``, v3 media type, as in
ica-openapi.yaml) rather than through the connectors: only this command uses them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import requests

from orch.errors import ApiError, ConfigError
from orch.ops.events import ANALYSIS_CODES, PLAN_CODES, queue_endpoint

ICA_AWS_ACCOUNT = "079623148045"
MEDIA = "application/vnd.illumina.v3+json"


def queue_arn(queue_url: str, region: str) -> str:
    account, name = [p for p in urlparse(queue_url).path.split("/") if p]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def queue_policy(arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "orch-ica-events", "Statement": [{
        "Sid": "IcaSendsNotifications", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ICA_AWS_ACCOUNT}:root"},
        "Action": "sqs:SendMessage", "Resource": arn}]}


@dataclass
class SetupPlan:
    queue_url: str
    region: str
    projects: dict[str, str]  # name -> id
    codes: tuple[str, ...] = PLAN_CODES
    payload_version: str = "V4"
    done: list[str] = field(default_factory=list)

    def channel_body(self) -> dict[str, Any]:
        return {"type": "SQS", "address": self.queue_url, "enabled": True}

    def subscription_body(self, code: str, channel_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"eventCode": code, "notificationChannelId": channel_id, "enabled": True}
        if code in ANALYSIS_CODES:  # payloadVersion exists for analysis events only (V3 or V4)
            body["payloadVersion"] = self.payload_version
        return body

    def text(self) -> str:
        arn = queue_arn(self.queue_url, self.region)
        out = ["# 1. SQS queue policy: lets ICA's AWS account send to the queue, e.g.",
               f"#    aws sqs set-queue-attributes --queue-url {self.queue_url} --attributes file://policy.json",
               json.dumps(queue_policy(arn), indent=2),
               "# 2. ICA notification channel (orch events setup --apply creates it)",
               f"POST /api/notificationChannels {json.dumps(self.channel_body())}",
               "# 3. ICA subscriptions, per project of the policies"]
        for name, pid in sorted(self.projects.items()):
            for code in self.codes:
                out.append(f"POST /api/projects/{pid}/notificationSubscriptions "
                           f"{json.dumps(self.subscription_body(code, '<channel id>'))}  # {name}")
        return "\n".join(out) + "\n"


class IcaNotifications:
    def __init__(self, base_url: str, api_key: str, timeout_s: float = 30.0):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers.update({"X-API-Key": api_key, "Accept": MEDIA, "Content-Type": MEDIA})
        self.http.trust_env = False
        self.timeout_s = timeout_s

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        try:
            r = self.http.request(method, self.base + route, json=body, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ApiError("ICA", f"{method} {route}", None, type(exc).__name__) from None
        if r.status_code >= 300:
            detail = ""
            try:
                detail = str(r.json().get("detail") or "")[:200]
            except ValueError:
                pass
            raise ApiError("ICA", f"{method} {route}", r.status_code, detail)
        return r.json() if r.content else None

    def apply(self, plan: SetupPlan) -> list[str]:
        said: list[str] = []
        channels = self._call("GET", "/api/notificationChannels")["items"]
        channel = next((c for c in channels if c.get("type") == "SQS" and c.get("address") == plan.queue_url), None)
        if channel is None:
            channel = self._call("POST", "/api/notificationChannels", plan.channel_body())
            said.append(f"created notification channel {channel['id']} (SQS {plan.queue_url})")
        else:
            said.append(f"notification channel {channel['id']} already sends to {plan.queue_url}")
        for name, pid in sorted(plan.projects.items()):
            route = f"/api/projects/{pid}/notificationSubscriptions"
            have = {s.get("eventCode") for s in self._call("GET", route)["items"]
                    if (s.get("notificationChannel") or {}).get("id") == channel["id"]}
            for code in plan.codes:
                if code in have:
                    said.append(f"{name}: {code} already subscribed")
                    continue
                self._call("POST", route, plan.subscription_body(code, channel["id"]))
                said.append(f"{name}: subscribed {code}")
        return said


def make_setup(settings: Any, events: str, payload_version: str = "V4") -> tuple[SetupPlan, Any]:
    """The plan, and the session-bound ICA access to carry it out (a context manager)."""
    from orch.engine.session import Session
    from orch.policy.loader import load_policies

    if payload_version.upper() not in ("V3", "V4"):
        raise ConfigError(f"--payload-version {payload_version!r}: use V3 or V4")
    queue_url, _, region = queue_endpoint(events)
    policies = load_policies(settings.policy_paths, settings.var_overrides)
    names = sorted({n for f in policies.files for n in f.scope.ica_projects})
    if not names:
        raise ConfigError("the policies name no ICA project in their scope; nothing to subscribe")
    session = Session(settings)
    try:
        projects = {n: session.ica.find_project(n).id for n in names}
    except Exception:
        session.close()
        raise
    return SetupPlan(queue_url, region, projects, payload_version=payload_version.upper()), session


def events_setup_command(settings: Any, events: str, apply: bool, payload_version: str = "V4") -> str:
    plan, session = make_setup(settings, events, payload_version)
    with session:
        if not apply:
            return plan.text()
        ica = session.ica.get() if hasattr(session.ica, "get") else session.ica
        client = IcaNotifications(ica_base_url(session, ica), ica_key(session, ica))
        said = client.apply(plan)
    arn = queue_arn(plan.queue_url, plan.region)
    return "\n".join(said) + "\n# the queue still needs this policy (ICA's AWS account sends to it):\n" + \
        json.dumps(queue_policy(arn), indent=2) + "\n"


def ica_base_url(session: Any, ica: Any) -> str:
    if session.sandbox is not None:
        return session.sandbox.ica_url
    import os

    from orch.settings import DEFAULT_ICA_URL

    return session.settings.ica_url or os.environ.get("ORCH_ICA_URL") or DEFAULT_ICA_URL


def ica_key(session: Any, ica: Any) -> str:
    if session.sandbox is not None:
        return session.sandbox.world.api_key
    from orch.connectors.credentials import load_ica_key

    return load_ica_key(session.settings.api_key_file)
