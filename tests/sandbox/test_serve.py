"""`orch sandbox serve` prints the three URL lines of the contract, serves, and stops on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import requests
import yaml


def test_serve_prints_three_lines_and_answers(tmp_path, small_world):
    world = tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(small_world))
    proc = subprocess.Popen([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert re.fullmatch(r"ica_url=http://127\.0\.0\.1:\d+/ica/rest", lines[0]), lines
        assert re.fullmatch(r"basespace_url=http://127\.0\.0\.1:\d+/basespace", lines[1]), lines
        assert re.fullmatch(r"s3_endpoint_url=http://127\.0\.0\.1:\d+", lines[2]), lines
        ica = lines[0].split("=", 1)[1]
        r = requests.get(ica + "/api/projects", headers={"X-API-Key": "test-key"}, timeout=10)
        assert r.status_code == 200 and len(r.json()["items"]) == 2
        bs = lines[1].split("=", 1)[1]
        assert requests.get(bs + "/v2/runs", headers={"x-access-token": "test-token"}, timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_serve_bad_world_is_one_line(tmp_path):
    world = tmp_path / "bad.yaml"
    world.write_text("format_version: 1\nica:\n  projects:\n    - id: x\n")
    proc = subprocess.run([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "ica.projects[0]" in proc.stderr and "name" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_serve_stops_on_sigint_even_when_started_ignoring_it_and_on_sigterm(tmp_path, small_world):
    """A background job of a non-interactive shell inherits SIGINT ignored; Ctrl-C must still stop the
    server, and so must SIGTERM (docker stop)."""
    world = tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(small_world))
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ignore_sigint)
        try:
            assert proc.stdout.readline().startswith("ica_url=")
            for _ in range(2):
                proc.stdout.readline()
        finally:
            proc.send_signal(sig)
            try:
                _, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f"serve did not stop on {sig.name}")
        assert proc.returncode == 0 and "Traceback" not in err, (sig, err)


def test_serve_on_a_port_in_use_is_one_line(tmp_path, small_world):
    """Found by review: werkzeug printed two lines of its own instead of one error sentence."""
    world = tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(small_world))
    first = subprocess.Popen([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = first.stdout.readline().strip().rsplit(":", 1)[1].split("/", 1)[0]
        second = subprocess.run([sys.executable, "-m", "orch", "sandbox", "serve", "--world", str(world),
                                 "--port", port], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert second.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: address already in use"
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=20)
