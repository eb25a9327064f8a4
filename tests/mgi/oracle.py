"""An independent, deliberately plain reading of contracts section 4: the actions the MGI pack must
plan for a sandbox state (``GET /_sandbox/state``), as ``(policy, action, resource id, then)``.

It shares no code with the engine or the policy language; comparing it with real plans on generated
worlds checks the whole chain (policy file, loader, matchers, planner, connectors, sandbox) at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orch.timeutil import parse_ts

FINAL = {"SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED"}
RUN_FOLDER = re.compile(r"^(?:\d{6}|\d{8})_[A-Za-z0-9]+_\d{4}_[A-Za-z0-9-]+")
Expected = set[tuple[str, str, str, "str | None"]]


@dataclass
class Vars:
    source_project: str = "ken_debug"
    destination_project: str = "Ken_demos"
    days_to_archive: int = 60
    days_to_delete: int = 90
    mgi_name_regex: str = r"^M[-_]"
    handoff_max_age_days: int = 60
    bssh_runs: str = "source"
    empty_trash: bool = False

    def cli(self) -> list[str]:
        default = Vars()
        return [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in vars(self).items()
                if v != getattr(default, k)]


def _status(s: str) -> str:
    return s.replace("_", "").upper()


def expected_actions(state: dict[str, Any], now: datetime, v: Vars, managed: set[str] = frozenset()) -> Expected:
    days = timedelta(days=1)

    def age(ts: str) -> timedelta:
        return now - parse_ts(ts)

    def in_delete(ts: str) -> bool:
        return age(ts) > v.days_to_delete * days

    def in_archive(ts: str) -> bool:
        return v.days_to_archive * days < age(ts) <= v.days_to_delete * days

    projects = {p["name"]: p for p in state["ica"]["projects"]}
    src, dst = projects[v.source_project], projects[v.destination_project]
    owned = [d for d in src["data"] if "owningProjectId" not in d]
    by_path = {d["path"]: d for d in owned}
    dst_paths = {d["path"] for d in dst["data"]}
    dst_ids = {d["id"] for d in dst["data"]}
    out: Expected = set()

    def files_under(folder: str) -> list[dict[str, Any]]:
        return [d for d in owned if d["path"].startswith(folder) and not d["path"].endswith("/")]

    def base(path: str) -> str:
        return path.rstrip("/").rsplit("/", 1)[-1]

    # 1. hand-off
    for a in src.get("analyses", []):
        if not (re.search(r"(?i)bcl.*convert", a["pipeline"]) and _status(a["status"]) == "SUCCEEDED"
                and a["id"] not in managed and age(a["startDate"]) <= v.handoff_max_age_days * days):
            continue
        selected = [f for f in files_under(a.get("output") or "\0") if base(f["path"]).endswith(".fastq.gz")
                    and not base(f["path"]).startswith("Undetermined") and re.search(v.mgi_name_regex, base(f["path"]))]
        for f in selected:
            if f["id"] not in dst_ids:
                out.add(("handoff-mgi-fastqs", "link", f["id"], None))
        if selected and f"/fastq_manifests/{a['reference']}.download_manifest.csv" not in dst_paths:
            out.add(("handoff-mgi-fastqs", "manifest", a["id"], None))
        out.add(("handoff-mgi-fastqs", "mark_managed", a["id"], None))

    # 2. lifecycle of final analyses
    bs_by_name: dict[str, list[dict[str, Any]]] = {}
    for p in state["basespace"]["projects"]:
        bs_by_name.setdefault(p["Name"], []).append(p)
    lifecycle: dict[tuple[str, str], tuple[str, str, str | None]] = {}  # (kind, id) -> (policy, action, then)

    def decide(kind: str, rid: str, policy: str, action: str, then: str | None = None) -> None:
        rank = {"archive": 1, "unarchive": 2, "delete": 2}
        old = lifecycle.get((kind, rid))
        if old is None or rank[action] > rank[old[1]]:
            lifecycle[(kind, rid)] = (policy, action, then)

    def bs_rules(kind: str, obj: dict[str, Any], delete_policy: str, archive_policy: str,
                 delete_ok: bool, archive_ok: bool) -> None:
        if obj.get("ArchiveStatus"):  # archive work in flight
            return
        if delete_ok and in_delete(obj["DateCreated"]):
            if obj["IsArchived"]:
                decide(kind, obj["Id"], delete_policy, "unarchive", "delete")
            else:
                decide(kind, obj["Id"], delete_policy, "delete")
        if archive_ok and in_archive(obj["DateCreated"]) and not obj["IsArchived"]:
            decide(kind, obj["Id"], archive_policy, "archive")

    for a in src.get("analyses", []):
        if _status(a["status"]) not in FINAL or not a.get("output"):
            continue
        deleting, archiving = in_delete(a["startDate"]), in_archive(a["startDate"])
        if not (deleting or archiving):
            continue
        bssh = [f for f in files_under(a["output"]) if base(f["path"]) == "bsshoutput.json"]
        if bssh:
            names = set()
            for f in bssh:
                names |= {p["Name"] for p in json.loads(f.get("content") or "{}").get("Projects", {}).values()}
            for name in names:
                for p in bs_by_name.get(name, []):
                    for ds in p["datasets"]:
                        # the analysis's window only puts its projects under lifecycle; each
                        # dataset's own DateCreated decides its action (contracts section 4, item 2)
                        bs_rules("bssh.dataset", ds, "delete-basespace-datasets", "archive-basespace-datasets",
                                 True, True)
        else:
            folder = by_path.get(a["output"])
            if folder is None:
                continue
            if deleting and folder["status"] == "AVAILABLE":
                decide("ica.data", folder["id"], "delete-ica-outputs", "delete")
            elif deleting and folder["status"] == "ARCHIVED":
                decide("ica.data", folder["id"], "delete-ica-outputs", "unarchive", "delete")
            elif archiving and folder["status"] == "AVAILABLE":
                decide("ica.data", folder["id"], "archive-ica-outputs", "archive")

    # 3. runs
    if v.bssh_runs in ("source", "all"):
        folders = {m.group(0) for a in src.get("analyses", []) if (m := RUN_FOLDER.match(a["userReference"]))}
        suffix = "" if v.bssh_runs == "source" else "all-"
        for r in state["basespace"]["runs"]:
            if v.bssh_runs == "all" or r["Name"] in folders:
                bs_rules("bssh.run", r, f"delete-{suffix}basespace-runs", f"archive-{suffix}basespace-runs",
                         True, True)

    for (kind, rid), (policy, action, then) in lifecycle.items():
        out.add((policy, action, rid, then))
    if v.empty_trash and any(a == "delete" and p.startswith("delete-") and "basespace" in p
                             for p, a, _, _ in out):
        out.add(("empty-basespace-trash", "purge_trash", "trash", None))
    return out


def actual_actions(plan_doc: dict[str, Any]) -> Expected:
    return {(a["policy"], a["action"], "trash" if a["action"] == "purge_trash" else a["resource"]["id"],
             (a.get("params") or {}).get("then")) for a in plan_doc["actions"]}
