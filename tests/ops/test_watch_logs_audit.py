"""Logs (stderr + rotating file, text or JSON, secrets masked) and ``orch audit`` over the ledger."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from typer.testing import CliRunner

from ops_helpers import MGI, handoff_world
from orch.cli import app
from orch.connectors.redact import register_secret
from orch.ops.logsetup import setup_logging, teardown_logging


@pytest.fixture
def sb(make_sandbox, small_world, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    return make_sandbox(handoff_world(small_world))


def cli(sb, *args, env_key=None):
    env = {"ICA_API_KEY": env_key or sb.world.api_key, "BASESPACE_ACCESS_TOKEN": sb.world.access_token,
           "ICA_API_KEY_FILE": None, "BASESPACE_CONFIG": None, "ORCH_STATE": None, "ORCH_LOG_FILE": None}
    res = CliRunner().invoke(app, [str(a) for a in args], env=env)
    return res.exit_code, res.stdout, res.stderr


def target(sb, tmp_path):
    return ["--ica-url", sb.ica_url, "--basespace-url", sb.basespace_url, "--s3-endpoint-url", sb.s3_endpoint_url,
            "--state", tmp_path / "state.db", "--now", "2026-11-25T12:00:00Z"]


def test_log_file_rotates_by_size_and_masks_secrets(tmp_path):
    secret = "hooks-secret-token-1234567890"
    register_secret(secret)
    stream = io.StringIO()
    log_file = tmp_path / "logs" / "orchestrator.log"
    setup_logging(str(log_file), "text", stream=stream, max_bytes=2000, backups=2)
    try:
        log = logging.getLogger("orch.watch")
        for i in range(100):
            log.info("cycle %d posted to https://hooks.example/%s", i, secret)
    finally:
        teardown_logging()
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["orchestrator.log", "orchestrator.log.1", "orchestrator.log.2"]
    assert all(p.stat().st_size <= 2200 for p in log_file.parent.iterdir())
    text = "".join(p.read_text() for p in log_file.parent.iterdir()) + stream.getvalue()
    assert secret not in text and "https://hooks.example/***" in text
    assert "cycle 99 posted" in log_file.read_text() and "cycle 99 posted" in stream.getvalue()


def test_watch_once_logs_json_lines_and_audit_shows_what_it_did(sb, tmp_path):
    log_file = tmp_path / "watch.log"
    code, _, err = cli(sb, "watch", "-p", MGI, *target(sb, tmp_path), "--once", "--log-format", "json",
                       "--log-file", log_file)
    assert code == 0, err
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    status = [r for r in records if r["logger"] == "orch.watch.status"]
    assert len(status) == 1 and "done" in status[0]["message"]
    done = [r for r in records if r["logger"] == "orch.watch" and r["message"].startswith("done ")]
    assert sb.world.api_key not in log_file.read_text() + err
    assert [json.loads(line)["message"] for line in err.splitlines()] == [r["message"] for r in records]

    code, out, err = cli(sb, "audit", "--state", tmp_path / "state.db", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(done) and {r["outcome"] for r in rows} == {"done"}
    assert {r["action"] for r in rows} >= {"link", "manifest", "mark_managed"}
    assert all(r["time"] == "2026-11-25T12:00:00Z" for r in rows)  # the run clock (--now) beside the wall clock

    code, out, _ = cli(sb, "audit", "--state", tmp_path / "state.db", "--format", "json", "--since", "2026-11-25T11:00:00Z")
    assert code == 0 and len(json.loads(out)) == len(rows)
    code, out, _ = cli(sb, "audit", "--state", tmp_path / "state.db", "--since", "2100-01-01T00:00:00Z")
    assert code == 0 and out == "No audit entries.\n"
    code, out, _ = cli(sb, "audit", "--state", tmp_path / "state.db", "--group", "no-such-group", "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = cli(sb, "audit", "--state", tmp_path / "state.db", "-n", "2")
    assert code == 0 and len(out.splitlines()) == 3 and out.startswith("wall clock")


@pytest.mark.parametrize("args, message", [
    (["--since", "bogus"], "--since 'bogus' is neither a duration"),
    (["--format", "xml"], "unknown --format 'xml'"),
])
def test_audit_bad_input_is_one_line(sb, tmp_path, args, message):
    (tmp_path / "state.db").touch()
    code, out, err = cli(sb, "audit", "--state", tmp_path / "state.db", *args)
    assert code == 1 and err.count("\n") == 1 and message in err


def test_audit_without_a_ledger_says_where_it_looked(sb, tmp_path):
    code, _, err = cli(sb, "audit", "--state", tmp_path / "nope.db")
    assert code == 1 and "no ledger at" in err and "nope.db" in err
