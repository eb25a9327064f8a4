"""IcaClient user tags (read, PUT the union, idempotent, no stale re-reads, If-Match conflicts merged)
and calls that succeed while the sandbox drops connections (``reset_rate``)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests
import yaml

from connector_helpers import ICA_KEY, SOURCE, counts, ica_client, reset_counts, state

R1 = "fil.a0000000000000000000000000000001"
ANALYSIS = "5c1e0000-0000-4000-8000-00000000000a"
DATA_PUT = "PUT /api/projects/{projectId}/data/{dataId}"
ANALYSIS_PUT = "PUT /api/projects/{projectId}/analyses/{analysisId}"


def _state_tags(sb, *, data_id: str | None = None, analysis_id: str | None = None) -> dict:
    project = next(p for p in state(sb)["ica"]["projects"] if p["id"] == SOURCE)
    if data_id:
        return next(d for d in project["data"] if d.get("id") == data_id).get("tags", {})
    return next(a for a in project["analyses"] if a["id"] == analysis_id).get("tags", {})


def test_data_tags_union_is_idempotent_and_rereads_are_fresh(make_sandbox, small_world):
    small_world["ica"]["projects"][0]["data"][0]["tags"] = {"userTags": ["existing"], "technicalTags": ["tech"]}
    sb = make_sandbox(small_world)
    ica = ica_client(sb)
    before = ica.get_data(SOURCE, R1)  # cached for the run
    assert before.attr("tags.userTags") == ["existing"]
    reset_counts(sb)
    assert ica.add_data_user_tags(SOURCE, R1, ["handed-off", "existing", "handed-off"]) == ["handed-off"]
    after = ica.get_data(SOURCE, R1)
    assert after.attr("tags.userTags") == ["existing", "handed-off"]  # not the cached copy
    assert after.attr("tags.technicalTags") == ["tech"]  # other kinds are sent back untouched
    assert _state_tags(sb, data_id=R1) == {"technicalTags": ["tech"], "userTags": ["existing", "handed-off"]}
    assert ica.add_data_user_tags(SOURCE, R1, ["handed-off"]) == []  # already there: no write
    assert counts(sb)["by_route"][DATA_PUT] == 1


def test_analysis_tags_union_and_idempotent(sandbox):
    ica = ica_client(sandbox)
    assert ica.get_analysis(SOURCE, ANALYSIS).attr("tags.userTags") == []
    reset_counts(sandbox)
    assert ica.add_analysis_user_tags(SOURCE, ANALYSIS, ["delivered", "qc"]) == ["delivered", "qc"]
    assert ica.get_analysis(SOURCE, ANALYSIS).attr("tags.userTags") == ["delivered", "qc"]
    assert ica.add_analysis_user_tags(SOURCE, ANALYSIS, ["qc"]) == []
    assert counts(sandbox)["by_route"][ANALYSIS_PUT] == 1
    assert _state_tags(sandbox, analysis_id=ANALYSIS) == {"userTags": ["delivered", "qc"]}


def test_analysis_conflict_is_reread_and_merged(sandbox):
    """Another writer tags the analysis between our GET and PUT: If-Match makes our PUT a 409,
    the client reads again and merges, so neither update is lost."""
    ica = ica_client(sandbox)
    url = f"{sandbox.ica_url}/api/projects/{SOURCE}/analyses/{ANALYSIS}"
    real = ica.http.request
    interleaved: list[int] = []

    def request(method, route, **kw):
        response = real(method, route, **kw)
        if method == "GET" and route.endswith("{analysisId}") and not interleaved:
            other = requests.put(url, headers={"X-API-Key": ICA_KEY}, json={"tags": {"userTags": ["other"]}})
            interleaved.append(other.status_code)
        return response

    ica.http.request = request
    reset_counts(sandbox)
    assert ica.add_analysis_user_tags(SOURCE, ANALYSIS, ["mine"]) == ["mine"]
    assert interleaved == [200]
    assert _state_tags(sandbox, analysis_id=ANALYSIS) == {"userTags": ["other", "mine"]}
    assert counts(sandbox)["by_route"][ANALYSIS_PUT] == 3  # theirs, our 409, our retry


def test_calls_succeed_under_connection_resets(make_sandbox):
    sb = make_sandbox(reset_rate=0.3, seed=11)
    ica = ica_client(sb)
    reset_counts(sb)
    calls = 0
    for i in range(8):
        ica.clear_cache()
        assert ica.find_project("ken_debug").id == SOURCE
        assert ica.get_data(SOURCE, R1).id == R1
        calls += 2
    added = ica.add_data_user_tags(SOURCE, R1, ["after-resets"])  # GET + PUT
    added += ica.add_analysis_user_tags(SOURCE, ANALYSIS, ["after-resets"])  # GET + PUT
    calls += 4
    assert added == ["after-resets", "after-resets"]
    stats = sb.wsgi_app.stats
    assert stats.resets > 0 and not stats.errors
    assert ica.http.budget.used == stats.resets  # every dropped connection was one retry
    assert stats.requests == calls + stats.resets
    assert counts(sb)["total"] == calls + stats.resets  # /_sandbox/requests counts the dropped attempts too
    assert _state_tags(sb, data_id=R1) == {"userTags": ["after-resets"]}
    assert _state_tags(sb, analysis_id=ANALYSIS) == {"userTags": ["after-resets"]}


def test_cli_serve_reset_rate_option(tmp_path, small_world):
    """``orch sandbox serve --reset-rate 1`` drops every platform call (control routes answer);
    an out-of-range rate is one line on stderr."""
    world = tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(small_world))
    bad = subprocess.run([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world), "--reset-rate", "2"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "reset_rate must be between 0 and 1" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    proc = subprocess.Popen([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world),
                             "--reset-rate", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ica_url = proc.stdout.readline().strip().split("=", 1)[1]
        base = ica_url.rsplit("/ica/rest", 1)[0]
        for _ in range(3):
            with pytest.raises(requests.ConnectionError):
                requests.get(ica_url + "/api/projects", headers={"X-API-Key": ICA_KEY}, timeout=10)
        assert requests.get(base + "/_sandbox/requests", timeout=10).json()["by_route"] == {"GET /api/projects": 3}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
