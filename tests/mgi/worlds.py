"""Small sandbox worlds for the MGI pack's acceptance tests, built as dicts (contracts section 3).

Every test builds the world it needs with ``WorldBuilder``: analyses of the source project with
their output files, the destination project's existing data, BaseSpace projects with datasets,
and BaseSpace runs. Ids are explicit and deterministic so assertions can name them. Timestamps
are given relative to ``NOW`` (the world's clock) with ``ago(...)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
API_KEY = "mgi-test-key"
ACCESS_TOKEN = "mgi-test-token"
SOURCE = "ken_debug"
DESTINATION = "Ken_demos"
BCLCONVERT = "BclConvert_v4_1_23_patch1"
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def ts(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(days: float = 0, seconds: float = 0, hours: float = 0) -> str:
    """The timestamp that is exactly that old at ``NOW``."""
    return ts(NOW - timedelta(days=days, seconds=seconds, hours=hours))


def project_id(n: int) -> str:
    return f"0d6f0000-0000-4000-8000-{n:012d}"


@dataclass
class AnalysisSpec:
    """What a test needs to know about an analysis it added."""

    id: str
    reference: str
    user_reference: str
    output: str  # the output folder path (ends with /)
    folder_id: str  # the output folder's data id
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # base name -> (path, data id)

    def path(self, name: str) -> str:
        return self.files[name][0]

    def file_id(self, name: str) -> str:
        return self.files[name][1]


class WorldBuilder:
    """Builds a world dict: source project ``ken_debug``, destination ``Ken_demos`` (by default)."""

    def __init__(self, source: str = SOURCE, destination: str = DESTINATION, *,
                 timing: dict[str, str] | None = None, now: datetime = NOW):
        self.now = now
        self.source, self.destination = source, destination
        self.projects: dict[str, dict[str, Any]] = {}
        self.source_id = self.project(source)
        self.destination_id = self.project(destination)
        self.bs_projects: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        # link batches complete on the first poll: the tests do not wait on the sandbox clock
        self.timing = {"archive": "1h", "unarchive": "6h", "delete": "10m", "link_batch": "0s", **(timing or {})}
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    # ---------------------------------------------------------------- ICA
    def project(self, name: str) -> str:
        """Add an (empty) ICA project; returns its id."""
        if name not in self.projects:
            self.projects[name] = {"name": name, "id": project_id(len(self.projects) + 1), "data": [], "analyses": []}
        return self.projects[name]["id"]

    def analysis(self, user_reference: str | None = None, *, start: str, files: tuple[str, ...] | list[str] = (),
                 pipeline: str = BCLCONVERT, status: str = "SUCCEEDED", bssh_projects: list[str] | None = None,
                 folder_status: str = "AVAILABLE", file_status: str | None = None,
                 subdir: str = "Samples/Lane_1/", project: str | None = None) -> AnalysisSpec:
        """Add an analysis (to the source project unless ``project``) with an output folder holding
        ``files`` under ``subdir`` (a name holding ``/`` is relative to the output folder instead).

        ``bssh_projects`` adds ``Reports/bsshoutput.json`` naming those BaseSpace projects
        (BaseSpace-managed). The output folder always exists, with ``folder_status``.
        """
        n = self._next()
        aid = f"5c1e0000-0000-4000-8000-{n:012d}"
        user_reference = user_reference or f"2611{n:02d}_LH00619_{n:04d}_B22CCFJL{n:02d}"
        reference = f"{user_reference}-{pipeline}-{aid}"
        output = f"/ilmn-analyses/{user_reference}_{aid[-6:]}/output/"
        proj = self.projects[project or self.source]
        self.project(proj["name"])
        data = proj["data"]
        spec = AnalysisSpec(id=aid, reference=reference, user_reference=user_reference, output=output,
                            folder_id=f"fol.{n:04d}{0xf01de5:028x}")
        data.append({"path": output, "id": spec.folder_id, "status": folder_status, "timeCreated": start})
        for name in files:
            path = output + (name if "/" in name else subdir + name)
            fid = f"fil.{n:04d}{len(spec.files):028x}"
            entry: dict[str, Any] = {"path": path, "id": fid, "timeCreated": start, "size": 1000 + len(spec.files)}
            if file_status is not None:
                entry["status"] = file_status
            data.append(entry)
            spec.files[name] = (path, fid)
        if bssh_projects is not None:
            content = json.dumps({"Projects": {f"P{i}": {"Name": name} for i, name in enumerate(bssh_projects)}})
            path = output + "Reports/bsshoutput.json"
            fid = f"fil.{n:04d}{0xb55:028x}"
            entry = {"path": path, "id": fid, "timeCreated": start, "content": content}
            if file_status is not None:
                entry["status"] = file_status
            data.append(entry)
            spec.files["bsshoutput.json"] = (path, fid)
        proj["analyses"].append({
            "id": aid, "reference": reference, "userReference": user_reference, "pipeline": pipeline,
            "status": status, "timeCreated": start, "startDate": start, "output": output})
        return spec

    def already_linked(self, spec: AnalysisSpec, name: str, into: str | None = None) -> None:
        """The destination project (or ``into``) already holds a link to that file."""
        path, fid = spec.files[name]
        owner = next(p["id"] for p in self.projects.values() if any(d.get("id") == fid for d in p["data"]))
        self.projects[into or self.destination]["data"].append({"path": path, "id": fid, "owningProjectId": owner})

    def destination_file(self, path: str, content: str = "old\n", project: str | None = None) -> None:
        self.projects[project or self.destination]["data"].append(
            {"path": path, "timeCreated": ts(self.now - DAY), "content": content})

    # ---------------------------------------------------------------- BaseSpace
    def bs_project(self, name: str, datasets: list[dict[str, Any]], pid: str | None = None) -> str:
        pid = pid or str(1000 + len(self.bs_projects) + 1)
        self.bs_projects.append({"Name": name, "Id": pid, "DateCreated": ago(days=365), "datasets": datasets})
        return pid

    def dataset(self, name: str, created: str, archived: bool = False) -> dict[str, Any]:
        """A dataset entry for ``bs_project`` (read its ``Id`` from the returned dict)."""
        n = self._next()
        return {"Id": f"ds.{n:032x}", "Name": name, "DateCreated": created, "IsArchived": archived,
                "TotalSize": 1000}

    def run(self, name: str, created: str, archived: bool = False, status: str = "Complete") -> str:
        rid = str(2000 + len(self.runs) + 1)
        self.runs.append({"Id": rid, "Name": name, "ExperimentName": f"exp-{rid}", "DateCreated": created,
                          "Status": status, "IsArchived": archived})
        return rid

    # ---------------------------------------------------------------- out
    def build(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "now": ts(self.now),
            "ica": {"api_key": API_KEY, "projects": [
                {k: (list(v) if isinstance(v, list) else v) for k, v in p.items()} for p in self.projects.values()]},
            "basespace": {"access_token": ACCESS_TOKEN, "projects": list(self.bs_projects), "runs": list(self.runs)},
            "timing": dict(self.timing),
        }
