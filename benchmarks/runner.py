"""Processes of the bench: the sandbox server (``bench_server.py``) and measured ``orch`` runs.

orch runs as a child process; its CPU time (user + system) and peak RSS come from ``wait4``'s
rusage of that child alone, its requests from the sandbox's ``/_sandbox/requests`` (reset before
each measured step). The sandbox runs in another process, so its CPU is not orch's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
ORCH = [sys.executable, "-m", "orch"]
POLICY = str(ROOT / "policies" / "mgi.yaml")


@dataclass
class Step:
    """One measured orch run (or several added up)."""

    name: str
    requests: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    exit_codes: list[int] = field(default_factory=list)
    timed_out: bool = False
    runs: int = 0

    def add(self, other: "Step") -> None:
        self.requests += other.requests
        for k, v in other.by_route.items():
            self.by_route[k] = self.by_route.get(k, 0) + v
        self.wall_s += other.wall_s
        self.cpu_s += other.cpu_s
        self.peak_rss_mb = max(self.peak_rss_mb, other.peak_rss_mb)
        self.exit_codes += other.exit_codes
        self.timed_out = self.timed_out or other.timed_out
        self.runs += other.runs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Server:
    """``bench_server.py`` in its own process; control calls over HTTP."""

    def __init__(self, analyses: int, files_per_analysis: int, seed: int = 1, latency_ms: float = 0.0,
                 startup_timeout: float = 900.0):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "bench_server.py"), "--analyses", str(analyses),
             "--files-per-analysis", str(files_per_analysis), "--seed", str(seed), "--latency-ms", str(latency_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=str(ROOT))
        self.info: dict[str, str] = {}
        deadline = time.monotonic() + startup_timeout
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line == "ready":
                break
            key, _, value = line.partition("=")
            self.info[key] = value
            if time.monotonic() > deadline:
                break
        if "control_url" not in self.info:
            self.stop()
            raise RuntimeError("the bench sandbox did not start")
        self.http = requests.Session()
        self.workdir = Path(tempfile.mkdtemp(prefix="orch-bench-"))
        for name, text in (("ica.key", "sandbox-key\n"), ("basespace.cfg", f"apiServer = {self.info['basespace_url']}\n"
                                                                           "accessToken = sandbox-token\n")):
            path = self.workdir / name
            path.write_text(text)
            path.chmod(0o600)

    @property
    def load_seconds(self) -> float:
        return float(self.info.get("load_seconds", 0))

    def control(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, self.info["control_url"] + path, json=body, timeout=600)
        r.raise_for_status()
        return r.json()

    def reset(self) -> None:
        self.control("POST", "/_sandbox/requests:reset")

    def counts(self) -> dict[str, Any]:
        return self.control("GET", "/_sandbox/requests")

    def advance(self, duration: str) -> str:
        return self.control("POST", "/_sandbox/clock", {"advance": duration})["now"]

    def now(self) -> str:
        return self.advance("0s")

    def latency(self, ms: float) -> None:
        self.control("POST", "/_bench/latency", {"ms": ms})

    def add_analyses(self, count: int = 1) -> list[str]:
        return self.control("POST", "/_bench/analyses", {"count": count})["added"]

    def facts(self) -> dict[str, Any]:
        return self.control("GET", "/_bench/facts")

    def rss_mb(self) -> float:
        return self.control("GET", "/_bench/rss")["peak_rss_mb"]

    def orch_args(self, state: Path) -> list[str]:
        return ["--ica-url", self.info["ica_url"], "--basespace-url", self.info["basespace_url"],
                "--api-key-file", str(self.workdir / "ica.key"),
                "--basespace-config", str(self.workdir / "basespace.cfg"),
                "--s3-endpoint-url", self.info["s3_endpoint_url"], "--state", str(state), "--now", self.now()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_orch(server: Server, name: str, argv: list[str], *, timeout: float, log: Path) -> Step:
    """Run ``orch ARGV`` against the server; requests counted from a reset."""
    server.reset()
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120")
    env.pop("ORCH_STATE", None)
    started = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"\n=== {name}: orch {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(ORCH + argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, cwd=str(server.workdir),
                                env=env)
        timed_out = False
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                timed_out = True
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    counts = server.counts()
    return Step(name, counts["total"], counts["by_route"], wall, usage.ru_utime + usage.ru_stime,
                usage.ru_maxrss / 1024, [proc.returncode], timed_out, 1)
