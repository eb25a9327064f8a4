"""Events: v3/v4 payloads parsed, SQS long polling on moto, the sandbox's notification API delivering
to it, and ``orch watch --events`` handing off an analysis as soon as it succeeds."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from ops_helpers import DST, MGI, handoff_world, keys_env, project_data, watch_settings, watchdog
from orch.cli import app
from orch.ops.events import MalformedEvent, SqsEvents, could_change_plan, open_event_source, parse_event, queue_endpoint
from orch.ops.stop import StopFlag
from orch.ops.watch import Watcher, WatchOptions
from orch.timeutil import format_ts, parse_ts

SRC_ID = "0d6f0000-0000-4000-8000-000000000001"
NEW_ID = "5c1e0000-0000-4000-8000-0000000000c1"
NEW_FILE = "/ilmn-analyses/RUN_C/output/Samples/M-7_S1_L001_R1_001.fastq.gz"


def envelope(version: str, status: str = "SUCCEEDED", project: str = SRC_ID, code: str = "ICA_EXEC_028") -> dict:
    """The shape ICA sends (public consumers' samples): v3 has ownerId/tenantId, v4 owner/tenant objects."""
    payload = {"id": NEW_ID, "reference": "RUN_C-BclConvert-5c1e", "userReference": "RUN_C", "status": status,
               "pipeline": {"id": "bf93b5cf-0000-4000-8000-000000000001", "code": "BclConvert v4_2_7"}}
    if version == "v3":
        payload.update(ownerId="a9938581-0000-4000-8000-000000000001", tenantId="1555b441-0000-4000-8000-000000000001")
    else:
        payload.update(owner={"id": "a9938581-0000-4000-8000-000000000001"},
                       tenant={"id": "1555b441-0000-4000-8000-000000000001", "name": "lab"})
    return {"correlationId": "970362e1-0000-4000-8000-000000000001", "timestamp": "2026-11-25T12:00:05.299Z",
            "eventCode": code, "eventParameters": {"pipelineExecution": NEW_ID, "analysisPreviousStatus": "INPROGRESS",
                                                   "analysisStatus": status},
            "description": "Analysis status changed", "projectId": project, "payloadVersion": version,
            "payload": payload}


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_both_payload_versions_parse_to_the_same_event(version):
    e = parse_event(json.dumps(envelope(version)))
    assert (e.code, e.project_id, e.version, e.resource_id, e.status) == ("ICA_EXEC_028", SRC_ID, version, NEW_ID, "SUCCEEDED")
    assert could_change_plan(e, {SRC_ID}) == (True, "analysis status change")


def test_sns_wrapped_and_data_events_parse():
    sns = {"Type": "Notification", "Message": json.dumps(envelope("v4"))}
    assert parse_event(json.dumps(sns)).resource_id == NEW_ID
    data = {"eventCode": "ICA_DATA_110", "projectId": SRC_ID,
            "payload": {"projectId": SRC_ID, "data": {"id": "fil.1", "details": {"status": "ARCHIVED"}}}}
    e = parse_event(json.dumps(data))
    assert (e.resource_id, e.status, could_change_plan(e, {SRC_ID})[0]) == ("fil.1", "ARCHIVED", True)


@pytest.mark.parametrize("body, why", [
    ("not json {", "not JSON"), ("[1, 2]", "not a JSON object"), ('{"payload": {}}', "no eventCode"),
    ('{"eventCode": "ICA_EXEC_028", "payloadVersion": "v9"}', "unknown payloadVersion"),
])
def test_malformed_messages_say_why(body, why):
    with pytest.raises(MalformedEvent, match=why):
        parse_event(body)


@pytest.mark.parametrize("event, why", [
    (envelope("v4", status="INPROGRESS"), "not final"),
    (envelope("v4", project="11111111-0000-4000-8000-000000000009"), "not a project of the policies"),
    (envelope("v4", code="ICA_BASE_001"), "unknown event code"),
])
def test_events_that_cannot_change_a_plan_do_not_wake(event, why):
    relevant, said = could_change_plan(parse_event(json.dumps(event)), {SRC_ID})
    assert not relevant and why in said


def test_queue_urls():
    assert queue_endpoint("sqs://sqs.eu-central-1.amazonaws.com/123456789012/orch") == (
        "https://sqs.eu-central-1.amazonaws.com/123456789012/orch", "https://sqs.eu-central-1.amazonaws.com",
        "eu-central-1")
    assert queue_endpoint("sqs://127.0.0.1:5000/123456789012/q")[0] == "http://127.0.0.1:5000/123456789012/q"
    from orch.errors import ConfigError
    with pytest.raises(ConfigError, match="use sqs://QUEUE_URL"):
        queue_endpoint("https://sqs.us-east-1.amazonaws.com/1/q")


@pytest.fixture
def aws_env(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def _queue_counts(client, url) -> int:
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                       "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def test_sqs_consumer_wakes_on_a_relevant_event_drops_the_rest_and_deletes_after_the_cycle(sandbox, aws_env):
    url = sandbox.notifications.create_queue("orch-consumer-test")
    _, endpoint, region = queue_endpoint("sqs://" + url)
    events = SqsEvents(url, endpoint, region, projects=lambda: {SRC_ID})
    events.check()
    c = events.client
    for body in [json.dumps(envelope("v3")), json.dumps(envelope("v4")), "garbage",
                 json.dumps(envelope("v4", status="INPROGRESS"))]:
        c.send_message(QueueUrl=url, MessageBody=body)
    woke = False
    for _ in range(4):
        woke = events.wait(1) or woke
        if events.seen == 4:
            break
    assert woke and events.seen == 4 and events.dropped == 2
    assert _queue_counts(c, url) == 2  # the two relevant ones wait for the cycle they woke
    events.settle()
    assert _queue_counts(c, url) == 0
    assert not events.wait(0.2)  # nothing left: a quiet wait


def finishing_world(small_world, finish_in_s: float) -> dict:
    world = handoff_world(small_world)
    now = parse_ts(world["now"])
    src = world["ica"]["projects"][0]
    src["data"].append({"path": NEW_FILE, "timeCreated": format_ts(now)})
    src["analyses"].append({"id": NEW_ID, "reference": "RUN_C-BclConvert_v4_1_23-5c1e", "userReference": "RUN_C",
                            "pipeline": "BclConvert_v4_1_23_patch1", "status": "INPROGRESS",
                            "timeCreated": format_ts(now), "startDate": format_ts(now),
                            "output": "/ilmn-analyses/RUN_C/output/",
                            "finishAt": format_ts(now + timedelta(seconds=finish_in_s))})
    return world


def test_world_finish_at_succeeds_the_analysis_on_the_clock(make_sandbox, small_world):
    sb = make_sandbox(finishing_world(small_world, 3600))
    import requests
    state = requests.get(sb.control_url + "/state", timeout=10).json()
    (new,) = [a for a in state["ica"]["projects"][0]["analyses"] if a["id"] == NEW_ID]
    assert new["status"] == "INPROGRESS" and new["finishAt"]
    requests.post(sb.control_url + "/clock", json={"advance": "2h"}, timeout=10).raise_for_status()
    state = requests.get(sb.control_url + "/state", timeout=10).json()
    (new,) = [a for a in state["ica"]["projects"][0]["analyses"] if a["id"] == NEW_ID]
    assert new["status"] == "SUCCEEDED" and "finishAt" not in new and new["endDate"]


def test_watch_with_events_hands_off_an_analysis_as_soon_as_it_succeeds(make_sandbox, small_world, tmp_path,
                                                                        monkeypatch, aws_env):
    monkeypatch.chdir(tmp_path)
    sb = make_sandbox(finishing_world(small_world, 3600))
    keys_env(monkeypatch, sb)
    url = sb.notifications.create_queue("orch-watch-test")
    common = ["-p", MGI, "--ica-url", sb.ica_url, "--events", "sqs://" + url]
    res = CliRunner().invoke(app, ["events", "setup", *common], env={"ICA_API_KEY": sb.world.api_key})
    assert res.exit_code == 0, res.stderr
    assert '"Principal": {\n        "AWS": "arn:aws:iam::079623148045:root"' in res.stdout and SRC_ID in res.stdout
    res = CliRunner().invoke(app, ["events", "setup", *common, "--apply"], env={"ICA_API_KEY": sb.world.api_key})
    assert res.exit_code == 0, res.stderr
    assert "subscribed ICA_EXEC_028" in res.stdout
    again = CliRunner().invoke(app, ["events", "setup", *common, "--apply"], env={"ICA_API_KEY": sb.world.api_key})
    assert "already subscribed" in again.stdout and "subscribed ICA_EXEC_028\n" not in again.stdout

    settings = watch_settings(sb, tmp_path)
    stop = StopFlag()
    events = open_event_source("sqs://" + url, settings)
    seen = []

    def on_cycle(r):
        seen.append(r)
        if r.reason == "start":  # RUN_C finishes now (the sandbox clock passes its finishAt)
            import requests
            requests.post(sb.control_url + "/clock", json={"advance": "2h"}, timeout=10).raise_for_status()
        if r.reason == "event":
            if len([c for c in seen if c.reason == "event"]) == 1:  # a duplicate of the event, and garbage
                body = json.dumps(envelope("v4"))
                events.client.send_message(QueueUrl=url, MessageBody=body)
                events.client.send_message(QueueUrl=url, MessageBody="{not json")
            else:
                stop.request("test")

    with watchdog(stop, 90):
        out = Watcher(settings, WatchOptions(every_s=3600, debounce_s=0.2), events=events, on_cycle=on_cycle,
                      stop=stop).run()
    reasons = [c.reason for c in out.cycles]
    assert reasons == ["start", "event", "event"], (out.reason, [c.status_line() for c in out.cycles])
    start, woke, dup = out.cycles
    assert start.planned.get("link", 0) >= 1  # RUN_A; RUN_C is still running
    assert woke.planned.get("link") == 1 and woke.outcomes == {"done": 3}  # link, manifest, mark_managed of RUN_C
    assert sum(dup.planned.get(k, 0) for k in ("link", "manifest", "mark_managed")) == 0  # the duplicate: nothing
    assert NEW_FILE in project_data(sb, DST)
    kinds = [(d["eventCode"], d["payloadVersion"]) for d in sb.notifications.delivered]
    assert ("ICA_EXEC_028", "v4") in kinds
    assert _queue_counts(events.client, url) == 0
