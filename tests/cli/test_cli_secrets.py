"""Secrets never print (issue 16.3) and odd credential files are one clear line (16.7): the real
console script against a sandbox over HTTP, with a distinctive key and token grepped for in every
output and every file the commands left behind."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import pytest

from cli_helpers import MGI, every_kind_world, orch_proc, orch_run

KEY = "K3Y-d1st1nct-0a1b2c3d4e5f60718293"
TOKEN = "T0K3N-d1st1nct-9f8e7d6c5b4a39281706"


@pytest.fixture
def world() -> dict:
    w = copy.deepcopy(every_kind_world())
    w["ica"]["api_key"], w["basespace"]["access_token"] = KEY, TOKEN
    w["timing"]["link_batch"] = "0s"
    return w


@pytest.fixture
def sb(make_sandbox, world):
    return make_sandbox(world)


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, 0o600)
    return path


def _urls(sb, cfg: Path, key: Path, state: Path) -> list[str]:
    return ["--ica-url", sb.ica_url, "--basespace-url", sb.basespace_url, "--s3-endpoint-url", sb.s3_endpoint_url,
            "--api-key-file", str(key), "--basespace-config", str(cfg), "--state", str(state),
            "--now", "2026-11-25T12:00:00Z"]


@pytest.mark.parametrize("content,problem", [
    (f"{KEY}\n# the old key\n", "more than one line"),
    (f"{KEY}\r\n", "carriage return"),
    (f"\ufeff{KEY}\n", "byte-order mark"),
    (f"apiServer = http://127.0.0.1:1/basespace\naccessToken = {TOKEN}\n", "looks like a BaseSpace config"),
    (f"{KEY}é\n", "non-ASCII"),
])
def test_a_bad_key_file_is_one_line_naming_the_problem_not_the_value(sb, tmp_path, content, problem):
    cfg = _write(tmp_path / "default.cfg", f"accessToken = {TOKEN}\n")
    key = _write(tmp_path / "key", content)
    for debug in ("", "1"):
        res = orch_run("plan", "-p", MGI, *_urls(sb, cfg, key, tmp_path / "s.db"), cwd=tmp_path,
                       env={"ORCH_DEBUG": debug} if debug else None)
        assert res.returncode == 1
        [line] = res.stderr.strip().splitlines()
        assert line.startswith("error: --api-key-file") and problem in line, line
        assert KEY not in res.stdout + res.stderr and TOKEN not in res.stdout + res.stderr


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_special_files_as_credentials_are_refused_at_once(sb, tmp_path, special):
    if special == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    elif special == "folder":
        path = tmp_path / "folder"
        path.mkdir()
    else:
        path = Path(special)
    cfg = _write(tmp_path / "default.cfg", f"accessToken = {TOKEN}\n")
    for option in ("--api-key-file", "--basespace-config"):
        args = _urls(sb, cfg, _write(tmp_path / "key", KEY), tmp_path / "s.db")
        args[args.index(option) + 1] = str(path)
        start = time.monotonic()
        run = orch_proc if special == "fifo" else orch_run  # a hang must not hang the test run
        res = run("plan", "-p", MGI, *args, cwd=tmp_path, **({"timeout": 30} if special == "fifo" else {}))
        assert time.monotonic() - start < 20
        assert res.returncode == 1
        [line] = res.stderr.strip().splitlines()
        assert line.startswith(f"error: {option}") and "internal error" not in line, line


def test_a_bom_in_default_cfg_still_reads_its_api_server(sb, tmp_path):
    """Found by review: a BOM hid the apiServer line, so the token went to the default server."""
    cfg = _write(tmp_path / "default.cfg", f"\ufeffapiServer = {sb.basespace_url}\naccessToken = {TOKEN}\n")
    key = _write(tmp_path / "key", KEY + "\n")
    args = _urls(sb, cfg, key, tmp_path / "s.db")
    i = args.index("--basespace-url")
    del args[i:i + 2]
    res = orch_run("plan", "-p", MGI, *args, "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert '"bssh.dataset"' in res.stdout


def test_every_command_keeps_the_key_and_token_out_of_every_output_and_file(sb, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key = _write(secrets / "key", KEY + "\n")
    cfg = _write(secrets / "default.cfg", f"apiServer = {sb.basespace_url}\naccessToken = {TOKEN}\n")
    two_lines = _write(secrets / "key2", f"{KEY}\n{KEY}\n")
    state = work / "state.db"
    ok = _urls(sb, cfg, key, state)
    plan_file = work / "plan.json"
    table = _write(work / "table.txt", "analysis_id_managed,run_id\n")
    runs = [
        ("lint", str(key)), ("lint", str(cfg)), ("lint", str(secrets)),
        ("plan", "-p", MGI, *ok), ("plan", "-p", MGI, *ok, "--format", "json"),
        ("plan", "-p", MGI, *ok, "--format", "markdown", "--out", str(plan_file)),
        ("show", str(plan_file)), ("show", str(plan_file), "--format", "json"),
        ("apply", str(plan_file), *ok),
        ("apply", "-p", MGI, *ok, "--yes"),
        ("ledger", "export", "--state", str(state)), ("ledger", "history", "--state", str(state)),
        ("ledger", "history", "--state", str(state), "--format", "json"),
        ("ledger", "import", str(table), "--state", str(state)),
        ("plan", "-p", MGI, *_urls(sb, cfg, two_lines, state)),
        ("plan", "-p", MGI, *_urls(sb, cfg, cfg, state)),
        ("plan", "-p", MGI, *_urls(sb, key, key, state)),
        ("plan", "-p", MGI, *[a if a != sb.ica_url else sb.ica_url + "/nope" for a in ok]),
        ("apply", "-p", MGI, *ok),  # no terminal, no --yes: refused
        ("schema", "plan"),
    ]
    outputs = []
    for i, args in enumerate(runs):
        for debug in ("", "1"):
            run = orch_proc if (debug and args[0] == "plan" and i >= 14) else orch_run  # failing ones also for real
            res = run(*args, cwd=work, env={"ORCH_DEBUG": debug} if debug else None)
            outputs.append((args, debug, res.stdout + res.stderr))
            assert "Traceback" not in res.stderr or debug
    assert any("Apply complete" in o for _, _, o in outputs), "the scan must include a real apply"
    leaks = [(a, d) for a, d, o in outputs if KEY in o or TOKEN in o]
    assert not leaks, leaks
    for f in work.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert KEY.encode() not in data and TOKEN.encode() not in data, f


def test_an_internal_error_and_its_debug_traceback_are_redacted(capsys, monkeypatch):
    """Every error text goes through redaction, the ORCH_DEBUG=1 traceback included."""
    import typer

    from orch.cli import run_guarded
    from orch.connectors.redact import register_secret

    register_secret(KEY)

    def boom():
        raise RuntimeError(f"Invalid header value b'{KEY}'")

    for debug in ("", "1"):
        monkeypatch.setenv("ORCH_DEBUG", debug)
        with pytest.raises(typer.Exit):
            run_guarded(boom)
        err = capsys.readouterr().err
        assert "internal error: RuntimeError" in err and KEY not in err
        assert ("Traceback" in err) == bool(debug)
