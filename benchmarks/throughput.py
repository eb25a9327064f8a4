"""The sandbox's throughput on the world's listings (issue 13: >= 2,000 requests/s on M, no latency).

Eight client threads (orch's concurrency), each with its own keep-alive session, send the listing
requests orch sends, round-robin over the world's objects, for a few seconds per kind; the bodies
are read but not parsed (the client's CPU is not the sandbox's). Kinds: an ICA data listing of
one output folder (recursive, 1,000 per page), the analyses page, a BaseSpace project's datasets
(1,024 per page), the run listing, and a single ``GET /data/{id}``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

THREADS = 8


def _targets(server) -> dict[str, list[tuple[str, dict]]]:
    ica, bs = server.info["ica_url"], server.info["basespace_url"]
    h = {"X-API-Key": "sandbox-key"}
    s = requests.Session()
    projects = s.get(ica + "/api/projects", headers=h, params={"pageSize": 1000}, timeout=60).json()["items"]
    src = next(p["id"] for p in projects if p["name"] == "ken_debug")
    analyses = s.get(f"{ica}/api/projects/{src}/analyses", headers=h, params={"pageSize": 1000}, timeout=60).json()["items"]
    folders = [f"/ilmn-analyses/{a['reference']}/output/" for a in analyses[:200]]
    files = s.get(f"{ica}/api/projects/{src}/data", headers=h, timeout=60,
                  params={"pageSize": 200, "filePath": "/ilmn-analyses/", "type": "FILE"}).json()["items"]
    bh = {"Authorization": "Bearer sandbox-token"}
    bs_projects = s.get(bs + "/v1pre3/users/current/projects", headers=bh, params={"Limit": 1024},
                        timeout=60).json()["Response"]["Items"]
    return {
        "ICA output folder listing (1,000/page)": [
            (f"{ica}/api/projects/{src}/data", {"params": {"pageSize": 1000, "filePath": f, "type": "FILE"}, "headers": h})
            for f in folders],
        "ICA analyses page (1,000/page)": [(f"{ica}/api/projects/{src}/analyses",
                                            {"params": {"pageSize": 1000}, "headers": h})],
        "BaseSpace project datasets (1,024/page)": [(f"{bs}/v2/projects/{p['Id']}/datasets",
                                                     {"params": {"Limit": 1024}, "headers": bh}) for p in bs_projects],
        "BaseSpace runs (1,024/page)": [(f"{bs}/v2/runs", {"params": {"Limit": 1024}, "headers": bh})],
        "ICA GET /data/{id}": [(f"{ica}/api/projects/{src}/data/{d['data']['id']}", {"headers": h}) for d in files],
    }


def _hammer(targets: list[tuple[str, dict]], seconds: float) -> tuple[int, int]:
    done = [0] * THREADS
    errors = [0] * THREADS
    stop = time.perf_counter() + seconds

    def work(k: int) -> None:
        s = requests.Session()
        i = k
        while time.perf_counter() < stop:
            url, kw = targets[i % len(targets)]
            r = s.get(url, timeout=60, **kw)
            _ = r.content
            if r.status_code == 200:
                done[k] += 1
            else:
                errors[k] += 1
            i += THREADS

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done), sum(errors)


def measure_throughput(server, seconds: float = 5.0) -> dict[str, Any]:
    server.latency(0)
    out: dict[str, Any] = {}
    for kind, targets in _targets(server).items():
        if not targets:
            continue
        t = time.perf_counter()
        n, errors = _hammer(targets, seconds)
        elapsed = time.perf_counter() - t
        out[kind] = {"requests": n, "errors": errors, "seconds": round(elapsed, 2), "per_second": round(n / elapsed, 1)}
    return out
