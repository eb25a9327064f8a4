"""ICA notification events from an SQS queue: parse both payload versions, decide "look now".

An event never bypasses planning: it only wakes ``orch watch`` for a cycle (the plan decides, so a
duplicate, a late or a reordered event is harmless). Messages are deleted after the cycle they woke
has finished, so a crash mid-cycle leaves them to be delivered again.

Unknown or malformed messages are logged (one line: message id and why, never the body) and
deleted at once: the event only ever meant "look now", and the next reconcile cycle (``--every``)
covers whatever it could have meant, so keeping a poison message for the queue's dead-letter
policy would only make it wake us again and again.

Envelope (verified on public consumers of ICA events, see docs/ or the note): ``eventCode``,
``projectId``, ``payloadVersion`` (``v3``/``v4``), ``eventParameters`` (analysis events:
``analysisStatus``, ``analysisPreviousStatus``), ``payload`` (the analysis as the API returns it;
v3 has ``ownerId``/``tenantId``, v4 ``owner``/``tenant`` objects). An SNS-wrapped message
(``{"Type": "Notification", "Message": "<json>"}``) is unwrapped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlparse

from orch.errors import ConfigError

log = logging.getLogger("orch.watch.events")

#: analysis events (ICA_EXEC_*) and project data events (ICA_DATA_*), from ICA's notification docs
ANALYSIS_CODES = {"ICA_EXEC_001": "analysis failure", "ICA_EXEC_002": "analysis success",
                  "ICA_EXEC_027": "analysis aborted", "ICA_EXEC_028": "analysis status change"}
DATA_CODES = {"ICA_DATA_100": "data status change", "ICA_DATA_104": "data linked", "ICA_DATA_106": "data deleted",
              "ICA_DATA_107": "data created", "ICA_DATA_108": "data uploaded", "ICA_DATA_109": "data updated",
              "ICA_DATA_110": "data archived"}
#: the codes that can change a plan (subscribed by ``orch events setup``): analyses reaching a final
#: state, data archived / unarchived (the wildcard 100 covers it) / deleted / uploaded
PLAN_CODES = ("ICA_EXEC_028", "ICA_DATA_100", "ICA_DATA_106", "ICA_DATA_108", "ICA_DATA_110")
FINAL = {"SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED"}


class MalformedEvent(ValueError):
    pass


@dataclass(frozen=True)
class IcaEvent:
    code: str
    project_id: str | None
    version: str | None  # v3 | v4 | None
    resource_id: str | None  # the analysis or data id
    status: str | None  # the analysis status after the change, or the data status
    timestamp: str | None = None

    @property
    def is_analysis(self) -> bool:
        return self.code in ANALYSIS_CODES


def parse_event(body: str) -> IcaEvent:
    """One SQS message body; raises ``MalformedEvent`` with a short reason."""
    try:
        doc = json.loads(body)
    except (ValueError, TypeError):
        raise MalformedEvent("not JSON") from None
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        return parse_event(doc["Message"])  # delivered through SNS
    if not isinstance(doc, dict):
        raise MalformedEvent("not a JSON object")
    code = doc.get("eventCode")
    if not isinstance(code, str) or not code:
        raise MalformedEvent("no eventCode")
    payload = doc.get("payload") if isinstance(doc.get("payload"), dict) else {}
    params = doc.get("eventParameters") if isinstance(doc.get("eventParameters"), dict) else {}
    version = str(doc.get("payloadVersion") or "").lower() or None
    if version not in (None, "v3", "v4"):
        raise MalformedEvent(f"unknown payloadVersion {doc.get('payloadVersion')!r}")
    if code in ANALYSIS_CODES:
        rid = payload.get("id") or params.get("pipelineExecution")
        status = params.get("analysisStatus") or payload.get("status")
        if code == "ICA_EXEC_002":
            status = status or "SUCCEEDED"
    else:  # project data: ``{"projectId", "data": {...}}`` (inferred from the API's ProjectData) or the data itself
        data = payload.get("data") if isinstance(payload.get("data"), dict) else payload
        details = data.get("details") if isinstance(data.get("details"), dict) else data
        rid, status = data.get("id"), details.get("status")
    project = doc.get("projectId") or payload.get("projectId")
    return IcaEvent(code=code, project_id=str(project) if project else None, version=version,
                    resource_id=str(rid) if rid else None, status=str(status).upper() if status else None,
                    timestamp=doc.get("timestamp"))


def could_change_plan(event: IcaEvent, projects: set[str] | None) -> tuple[bool, str]:
    """(relevant, why) for an event of the watched ICA projects (``None``: any project)."""
    if event.code not in ANALYSIS_CODES and event.code not in DATA_CODES:
        return False, f"unknown event code {event.code}"
    if projects is not None and event.project_id not in projects:
        return False, "not a project of the policies"
    if event.is_analysis and event.status and event.status not in FINAL:
        return False, f"analysis now {event.status} (not final)"
    if event.code in ("ICA_DATA_104", "ICA_DATA_107", "ICA_DATA_109"):
        return False, DATA_CODES[event.code]
    return True, ANALYSIS_CODES.get(event.code) or DATA_CODES[event.code]


def queue_endpoint(spec: str) -> tuple[str, str, str]:
    """``sqs://QUEUE_URL`` -> (queue URL, endpoint URL, region). ``sqs://host/acct/name`` means https
    (http for 127.0.0.1/localhost, e.g. a moto server); ``sqs://https://...`` is accepted as well."""
    if not spec.startswith("sqs://"):
        raise ConfigError(f"--events {spec!r}: use sqs://QUEUE_URL (e.g. sqs://sqs.us-east-1.amazonaws.com/123456789012/orch)")
    rest = spec[len("sqs://"):]
    if not rest.startswith(("http://", "https://")):
        host = rest.split("/", 1)[0].split(":", 1)[0]
        rest = ("http://" if host in ("127.0.0.1", "localhost") else "https://") + rest
    u = urlparse(rest)
    if not u.netloc or len([p for p in u.path.split("/") if p]) != 2:
        raise ConfigError(f"--events {spec!r}: the queue URL must look like https://sqs.REGION.amazonaws.com/ACCOUNT/NAME")
    parts = u.netloc.split(".")
    region = (parts[1] if len(parts) > 3 and parts[0] == "sqs" else None) or os.environ.get("AWS_REGION") \
        or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return rest, f"{u.scheme}://{u.netloc}", region


class SqsEvents:
    """``orch watch --events sqs://...``: boto3 long polling; see the module doc for deletion."""

    def __init__(self, queue_url: str, endpoint_url: str, region: str, *, client: Any = None,
                 projects: Callable[[], set[str] | None] = lambda: None):
        import boto3
        from botocore.config import Config

        self.queue_url = queue_url
        self.client = client or boto3.client("sqs", endpoint_url=endpoint_url, region_name=region,
                                             config=Config(retries={"max_attempts": 3, "mode": "standard"}))
        self._projects_fn = projects
        self._projects: set[str] | None = None
        self._resolved = False
        self._pending: list[str] = []  # receipt handles of the events the next cycle covers
        self.seen = self.relevant = self.dropped = 0

    def check(self) -> None:
        """Fail fast on a wrong URL or missing credentials (one line, no secret)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        except ClientError as exc:
            raise ConfigError(f"--events: cannot use the queue {self.queue_url} "
                              f"({exc.response.get('Error', {}).get('Code', 'error')})") from None
        except BotoCoreError as exc:
            raise ConfigError(f"--events: cannot reach the queue {self.queue_url} ({type(exc).__name__})") from None

    def _watched(self) -> set[str] | None:
        if not self._resolved:
            self._projects, self._resolved = self._projects_fn(), True
        return self._projects

    def wait(self, seconds: float) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        wait_s = max(0, min(20, int(math.floor(seconds))))
        started = time.monotonic()
        try:
            resp = self.client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                               WaitTimeSeconds=wait_s)
        except (ClientError, BotoCoreError) as exc:  # the queue is a wake-up call only: poll on
            log.warning("cannot receive from %s (%s); the cadence goes on", self.queue_url, type(exc).__name__)
            time.sleep(max(0.0, min(seconds, 5.0) - (time.monotonic() - started)))
            return False
        woke, drop = False, []
        for m in resp.get("Messages", []):
            self.seen += 1
            try:
                event = parse_event(m.get("Body", ""))
            except MalformedEvent as exc:
                log.warning("event %s dropped: %s", m.get("MessageId", "?"), exc)
                drop.append(m["ReceiptHandle"])
                continue
            relevant, why = could_change_plan(event, self._watched())
            if relevant:
                log.info("event %s %s (%s) of %s %s: planning soon", event.code, why, event.status or "-",
                         "analysis" if event.is_analysis else "data", event.resource_id or "?")
                self._pending.append(m["ReceiptHandle"])
                woke = True
            else:
                log.debug("event %s ignored: %s", event.code, why)
                drop.append(m["ReceiptHandle"])
        self.relevant += woke
        self.dropped += len(drop)
        self._delete(drop)
        if not resp.get("Messages") and wait_s == 0:
            time.sleep(max(0.0, seconds))
        return woke

    def settle(self) -> None:
        pending, self._pending = self._pending, []
        self._delete(pending)

    def _delete(self, receipts: list[str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for i in range(0, len(receipts), 10):
            entries = [{"Id": str(n), "ReceiptHandle": r} for n, r in enumerate(receipts[i:i + 10])]
            try:
                self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:  # redelivered later: harmless (only "look now")
                log.warning("cannot delete %d event(s) from the queue (%s)", len(entries), type(exc).__name__)


def open_event_source(spec: str, settings: Any) -> SqsEvents:
    queue_url, endpoint, region = queue_endpoint(spec)
    source = SqsEvents(queue_url, endpoint, region, projects=lambda: watched_projects(settings))
    source.check()
    return source


def watched_projects(settings: Any) -> set[str] | None:
    """The ids of the ICA projects in the policies' scopes (None when they cannot be resolved now:
    every project's events then count, which costs at most an extra plan)."""
    from orch.engine.session import Session
    from orch.errors import OrchError
    from orch.policy.loader import load_policies

    try:
        policies = load_policies(settings.policy_paths, settings.var_overrides)
        names = {n for f in policies.files for n in f.scope.ica_projects}
        with Session(settings) as session:
            return {session.ica.find_project(n).id for n in names}
    except (OrchError, OSError) as exc:
        log.warning("cannot resolve the policies' ICA projects (%s); events of every project wake a cycle", exc)
        return None
