"""``orch doctor`` over real HTTP (issue 9 item 8): it passes on a healthy sandbox, names each problem on
one line with its fix (wrong token, missing scope, misspelt project, refused route), and only reads."""

from __future__ import annotations

import json

import pytest
import requests

from e2e_helpers import MGI, TOKEN, Cli, every_kind_world


def doctor(cli: Cli, *extra: str, policy: str | None = MGI):
    args = ["doctor", *(["-p", policy] if policy else []), "--state", str(cli.workdir / "state.db"),
            "--ica-url", cli.sandbox.ica_url, "--basespace-url", cli.sandbox.basespace_url, *extra]
    return cli.run(*args)


def fails(run) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith("✗")]


@pytest.fixture
def world():
    return every_kind_world()


def test_doctor_passes_and_sends_only_reads(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    sb = make_sandbox(world)
    cli = Cli(sb, tmp_path)
    requests.post(sb.control_url + "/requests:reset", timeout=5)
    run = doctor(cli)
    assert run.code == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "all checks passed" and not fails(run)
    for what in ("✓ ICA key", "✓ clock", "✓ BaseSpace token", "✓ BaseSpace scopes", "✓ ICA project 'ken_debug'",
                 "✓ ICA project 'Ken_demos'", "✓ route GET /v2/runs", "✓ unverified route DELETE /v2/datasets/{id}"):
        assert any(line.startswith(what) for line in lines), what
    by_route = requests.get(sb.control_url + "/requests", timeout=5).json()["by_route"]
    assert by_route and all(r.startswith("GET ") for r in by_route), by_route
    assert TOKEN not in run.stdout and world["ica"]["api_key"] not in run.stdout
    doc = json.loads(doctor(cli, "--format", "json").stdout)
    assert doc["ok"] is True and {c["status"] for c in doc["checks"]} == {"ok"}


def test_a_wrong_token_is_one_line(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    cli = Cli(make_sandbox(world), tmp_path)
    cli.env["BASESPACE_ACCESS_TOKEN"] = "not-the-token"
    run = doctor(cli)
    assert run.code == 1
    [bad] = fails(run)
    assert bad.startswith("✗ BaseSpace token:") and "HTTP 401" in bad and "fix: check --basespace-config" in bad
    assert "not-the-token" not in run.stdout


def test_a_missing_scope_names_it_and_the_bs_auth_line(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    world["basespace"]["scopes"] = ["READ GLOBAL", "BROWSE GLOBAL", "MOVETOTRASH GLOBAL"]
    cli = Cli(make_sandbox(world), tmp_path)
    run = doctor(cli, "--var", "empty_trash=true")
    [bad] = fails(run)
    assert bad.startswith("✗ BaseSpace scopes: the token lacks EMPTY TRASH") and "bs auth --scopes '" in bad


def test_a_misspelt_project_is_named_with_a_suggestion(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    cli = Cli(make_sandbox(world), tmp_path)
    run = doctor(cli, "--var", "destination_project=ken_Demos")
    assert run.code == 1
    [bad] = fails(run)
    assert bad.startswith("✗ ICA project 'ken_Demos'") and "did you mean 'Ken_demos'?" in bad


def test_refused_routes_are_named(make_sandbox, tmp_path, monkeypatch, world):
    from orch.connectors import route_state
    from orch.engine.ledger import Ledger

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCH_BASESPACE_CONFIRMED_ROUTES", raising=False)
    world["sandbox"] = {"refuse_routes": ["GET /v2/runs"]}
    sb = make_sandbox(world)
    cli = Cli(sb, tmp_path)
    run = doctor(cli)
    [bad] = fails(run)
    assert bad.startswith("✗ route GET /v2/runs: BaseSpace answered 404: the server does not know this route")
    assert any(line.startswith("! unverified route DELETE /v2/datasets/{id}: unknown") for line in run.stdout.splitlines())
    # after an apply met an unknown dataset delete route, the ledger says so and doctor fails on it
    with Ledger(str(tmp_path / "state.db")) as ledger:
        route_state.put(ledger, f"basespace:127.0.0.1:9000001", "DELETE /v2/datasets/{id}", route_state.UNAVAILABLE)
    again = doctor(cli)
    assert any(line.startswith("✗ unverified route DELETE /v2/datasets/{id}: unavailable") for line in fails(again))
