"""Notifications arrive at real local receivers (HTTP webhook, SMTP server) with the expected text;
no secret (webhook URL, SMTP password) shows in any log line or error."""

from __future__ import annotations

import io
import logging

import pytest

from receivers import HookReceiver, SmtpReceiver
from orch.errors import ConfigError
from orch.ops.logsetup import setup_logging, teardown_logging
from orch.ops.notify import Message, NotifyError, parse_target, render

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

SMTP_PASSWORD = "smtp-pass-9f8e7d6c5b"


@pytest.fixture
def logs(tmp_path):
    stream = io.StringIO()
    setup_logging(str(tmp_path / "orchestrator.log"), "text", stream=stream)
    yield lambda: stream.getvalue() + (tmp_path / "orchestrator.log").read_text()
    teardown_logging()


def test_webhook_posts_slack_json_and_the_url_stays_secret(monkeypatch, tmp_path, logs):
    with HookReceiver() as hook:
        url = f"{hook.base}/services/T0001/B0002/secret-hook-token"
        (tmp_path / "hook").write_text(url + "\n")
        sender = parse_target(f"webhook:file:{tmp_path / 'hook'}")
        text = render("handoff", files=12, run="RUN_X", project="Ken_demos", manifest="/fastq_manifests/RUN_X.csv")
        sender.send(Message("hand-off", text))
        logging.getLogger("orch.watch").info("sent to %s", url)
    assert hook.posts == [("/services/T0001/B0002/secret-hook-token",
                           {"text": "12 FASTQs of RUN_X handed off to Ken_demos, manifest at /fastq_manifests/RUN_X.csv."})]
    assert "secret-hook-token" not in logs() + repr(sender)


def test_a_refused_webhook_raises_without_the_url(monkeypatch):
    with HookReceiver(status=404) as hook:
        monkeypatch.setenv("ORCH_TEST_HOOK", f"{hook.base}/hooks/secret-404")
        sender = parse_target("webhook:env:ORCH_TEST_HOOK")
        with pytest.raises(NotifyError) as exc:
            sender.send(Message("s", "t"))
    assert "HTTP 404" in str(exc.value) and "secret-404" not in str(exc.value)
    assert "ORCH_TEST_HOOK" in str(exc.value)


def test_email_arrives_over_smtp_with_login_and_the_password_is_never_logged(monkeypatch, tmp_path, logs):
    (tmp_path / "smtp-pass").write_text(SMTP_PASSWORD)
    with SmtpReceiver(user="orch", password=SMTP_PASSWORD) as smtp:
        monkeypatch.setenv("ORCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ORCH_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("ORCH_SMTP_USER", "orch")
        monkeypatch.setenv("ORCH_SMTP_PASSWORD_FILE", str(tmp_path / "smtp-pass"))
        monkeypatch.setenv("ORCH_SMTP_FROM", "orch@lab.example")
        sender = parse_target("email:mgi@lab.example,ops@lab.example")
        sender.send(Message("orch: hand-off", "3 deletes refused as stale"))
        logging.getLogger("orch.watch").info("smtp password was %s", SMTP_PASSWORD)
    ((mail_from, rcpts, body, login),) = smtp.messages
    assert mail_from == "orch@lab.example" and rcpts == ["mgi@lab.example", "ops@lab.example"]
    assert "Subject: orch: hand-off" in body and "3 deletes refused as stale" in body and login == "orch"
    assert SMTP_PASSWORD not in logs() + repr(sender)


def test_a_wrong_smtp_password_fails_with_the_code_not_the_password(monkeypatch, tmp_path):
    with SmtpReceiver(user="orch", password="right") as smtp:
        for k, v in {"ORCH_SMTP_HOST": "127.0.0.1", "ORCH_SMTP_PORT": str(smtp.port), "ORCH_SMTP_USER": "orch",
                     "ORCH_SMTP_PASSWORD": SMTP_PASSWORD}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("ORCH_SMTP_PASSWORD_FILE", raising=False)
        with pytest.raises(NotifyError) as exc:
            parse_target("email:a@lab.example").send(Message("s", "t"))
    assert "535" in str(exc.value) and SMTP_PASSWORD not in str(exc.value)
    assert not smtp.messages


@pytest.mark.parametrize("spec, says", [
    ("webhook:https://hooks.example/T/B/x", "never the URL itself"),
    ("webhook:env:ORCH_NOT_SET_ANYWHERE", "ORCH_NOT_SET_ANYWHERE is not set"),
    ("email:nobody", "write email:someone@example.org"),
    ("pager:https://x.example/secret", "use webhook:env:VAR"),
])
def test_bad_targets_are_one_clear_error(spec, says, monkeypatch):
    monkeypatch.delenv("ORCH_NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError) as exc:
        parse_target(spec)
    assert says in str(exc.value) and "\n" not in str(exc.value)
    assert "hooks.example" not in str(exc.value) and "secret" not in str(exc.value).replace("a secret", "")


def test_watch_notify_tells_once_per_problem_then_that_it_stopped(make_sandbox, small_world, tmp_path, monkeypatch,
                                                                  logs):
    from ops_helpers import handoff_world, keys_env, watch_settings
    from orch.ops.notify import WebhookSender
    from orch.ops.watch import Watcher, WatchOptions
    from orch.ops.watch_notify import CycleNotifier

    monkeypatch.chdir(tmp_path)
    sb = make_sandbox(handoff_world(small_world))
    keys_env(monkeypatch, sb, ica_key="revoked-key")
    with HookReceiver() as hook:
        notifier = CycleNotifier([WebhookSender(f"{hook.base}/hooks/ops-secret-path")])
        out = Watcher(watch_settings(sb, tmp_path), WatchOptions(every_s=60, backoff_s=0.05, max_auth_failures=3),
                      notifier=notifier).run()
    assert out.exit_code == 1
    texts = [body["text"] for _, body in hook.posts]
    assert len(texts) == 2, texts  # three failed cycles, one message about them; then the stop
    assert "failed: ICA" in texts[0] and "HTTP 401" in texts[0]
    assert "stopped: stopping after 3 authentication failures in a row" in texts[1]
    assert "ops-secret-path" not in logs() and "revoked-key" not in logs() + "".join(texts)


def test_problem_lines_name_the_refused_and_failed_actions():
    from orch.engine.plan import ActionResult, ApplyReport, Outcome, PlannedAction
    from orch.ops.cycle import CycleResult
    from orch.ops.watch_notify import problem_lines
    from orch.timeutil import utcnow

    def result(action, outcome):
        pa = PlannedAction.from_dict({"id": f"{action}-{outcome}-{id(object())}", "policy": "p", "group": "g",
                                      "action": action, "resource": {"kind": "ica.data", "id": "fil.1", "name": "x"},
                                      "params": {}, "reason": "r", "fingerprint": "f", "depends_on": []})
        return ActionResult(pa, Outcome(outcome), "m")

    report = ApplyReport()
    for _ in range(3):
        report.add(result("delete", "refused-stale"))
    report.add(result("link", "failed"))
    report.add(result("link", "done"))
    res = CycleResult(reason="poll", started=utcnow(), report=report, errors=["mgi: ICA read failed"])
    assert problem_lines(res) == ["3 deletes refused as stale", "1 link failed", "plan error: mgi: ICA read failed"]
    text = render("cycle_problem", started="T", failure=None, problems=problem_lines(res), stopped_reason=None)
    assert text.splitlines()[1:] == ["- 3 deletes refused as stale", "- 1 link failed", "- plan error: mgi: ICA read failed"]
