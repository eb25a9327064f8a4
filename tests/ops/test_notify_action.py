"""The ``notify`` action (one class): planned after a hand-off with the message it will send, sent to a
real local webhook receiver at apply, never planned when nothing is handed off."""

from __future__ import annotations

import pytest

from ops_helpers import REPO, handoff_world, keys_env, watch_settings
from receivers import HookReceiver
from orch.ops.watch import Watcher, WatchOptions

MGI_TEXT = (REPO / "policies" / "mgi.yaml").read_text()


def notify_pack(tmp_path, target: str):
    """The MGI pack with `notify` added to its hand-off policy (after mark_managed)."""
    marker = "      - mark_managed\n"
    assert MGI_TEXT.count(marker) == 1
    path = tmp_path / "mgi-notify.yaml"
    path.write_text(MGI_TEXT.replace(marker, marker + f"      - notify: {{to: ['{target}']}}\n"))
    return str(path)


def test_lint_accepts_the_target_forms_and_rejects_a_raw_url(tmp_path):
    from orch.policy.lint import lint_paths

    assert lint_paths([notify_pack(tmp_path, "webhook:env:MGI_HOOK")]) == []
    (tmp_path / "b").mkdir()
    problems = lint_paths([notify_pack(tmp_path / "b", "https://hooks.example/T/B/x")])
    assert len(problems) == 1 and "notify" in str(problems[0])


def test_notify_is_planned_with_its_text_and_delivered_after_the_handoff(make_sandbox, small_world, tmp_path,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    sb = make_sandbox(handoff_world(small_world))
    keys_env(monkeypatch, sb)
    with HookReceiver() as hook:
        monkeypatch.setenv("MGI_HOOK", f"{hook.base}/hooks/mgi-secret")
        settings = watch_settings(sb, tmp_path, policy_paths=[notify_pack(tmp_path, "webhook:env:MGI_HOOK")])
        out = Watcher(settings, WatchOptions(once=True)).run()
        (cycle,) = out.cycles
        assert out.exit_code == 0, cycle.status_line()
        (notify,) = [a for a in cycle.plan.actions if a.action == "notify"]
        links = [a for a in cycle.plan.actions if a.action == "link"]
        expected = (f"{len(links)} FASTQs of RUN_A handed off to Ken_demos, manifest at "
                    "/fastq_manifests/RUN_A-BclConvert_v4_1_23-5c1e.download_manifest.csv.")
        assert notify.params["text"] == expected and set(notify.depends_on) >= {a.id for a in links}
        assert [body["text"] for _, body in hook.posts] == [expected]
        again = Watcher(settings, WatchOptions(once=True)).run()  # handed off already: nothing to tell
        assert "notify" not in again.cycles[0].planned and len(hook.posts) == 1
    result = next(r for r in cycle.report.results if r.action.action == "notify")
    assert result.outcome.value == "done" and "mgi-secret" not in result.message


def test_a_failed_delivery_is_a_failed_action_without_the_url(make_sandbox, small_world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sb = make_sandbox(handoff_world(small_world))
    keys_env(monkeypatch, sb)
    with HookReceiver(status=500) as hook:
        monkeypatch.setenv("MGI_HOOK", f"{hook.base}/hooks/mgi-secret")
        settings = watch_settings(sb, tmp_path, policy_paths=[notify_pack(tmp_path, "webhook:env:MGI_HOOK")])
        out = Watcher(settings, WatchOptions(once=True)).run()
    (cycle,) = out.cycles
    r = next(r for r in cycle.report.results if r.action.action == "notify")
    assert out.exit_code == 1 and r.outcome.value == "failed" and "HTTP 500" in r.message
    assert "mgi-secret" not in r.message + cycle.status_line()
