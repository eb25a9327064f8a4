"""Small in-memory fakes of the IcaApi / BasespaceApi protocols for planner and applier unit tests.

They keep state as typed inventory objects and count calls, so tests can assert both the plan and
that nothing is read twice. End-to-end behaviour is tested against the real sandbox (tests/e2e/).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable

from orch.connectors.base import LinkResult
from orch.errors import ApiError, Conflict, NotFound
from orch.inventory import BsshDataset, BsshProject, BsshRun, IcaAnalysis, IcaData, IcaOutput, IcaProject
from orch.timeutil import parse_ts

NOW = parse_ts("2026-11-25T12:00:00Z")


def ts(text: str) -> datetime:
    return parse_ts(text)


def data(project_id: str, path: str, did: str, status: str = "AVAILABLE", created: str = "2026-11-20T10:00:00Z",
         owning: str | None = None) -> IcaData:
    folder = path.endswith("/")
    name = path.rstrip("/").rsplit("/", 1)[-1]
    raw = {"data": {"id": did, "details": {"name": name, "path": path, "status": status,
                                           "dataType": "FOLDER" if folder else "FILE", "timeCreated": created,
                                           "owningProjectId": owning or project_id}},
           "projectId": project_id}
    return IcaData(id=did, project_id=project_id, owning_project_id=owning or project_id, name=name, path=path,
                   data_type="FOLDER" if folder else "FILE", status=status, time_created=ts(created), raw=raw)


def analysis(project_id: str, aid: str, user_ref: str, status: str = "SUCCEEDED", start: str = "2026-11-20T09:00:00Z",
             pipeline: str = "BclConvert_v4_1_23") -> IcaAnalysis:
    raw = {"id": aid, "reference": f"{user_ref}-{pipeline}-{aid}", "userReference": user_ref,
           "pipeline": {"code": pipeline}, "status": status, "startDate": start, "timeCreated": start}
    return IcaAnalysis(id=aid, project_id=project_id, reference=raw["reference"], user_reference=user_ref,
                       pipeline_code=pipeline, status=status, time_created=ts(start), start_date=ts(start), raw=raw)


@dataclass
class FakeIca:
    projects: dict[str, IcaProject] = field(default_factory=dict)  # by name
    analyses: dict[str, list[IcaAnalysis]] = field(default_factory=dict)  # by project id
    outputs: dict[str, str] = field(default_factory=dict)  # analysis id -> output folder data id
    items: dict[tuple[str, str], IcaData] = field(default_factory=dict)  # (project id, data id)
    contents: dict[str, bytes] = field(default_factory=dict)  # data id -> bytes
    fail: dict[str, Exception] = field(default_factory=dict)  # call name (or "call:data id") -> error
    calls: Counter = field(default_factory=Counter)
    uploads: dict[str, bytes] = field(default_factory=dict)

    # -- setup helpers
    def add_project(self, name: str, pid: str) -> str:
        self.projects[name] = IcaProject(id=pid, name=name)
        self.analyses.setdefault(pid, [])
        return pid

    def add(self, d: IcaData, content: bytes | None = None) -> IcaData:
        self.items[(d.project_id, d.id)] = d
        if content is not None:
            self.contents[d.id] = content
        return d

    def _check(self, call: str, key: str = "") -> None:
        self.calls[call] += 1
        for k in (call, f"{call}:{key}"):
            if k in self.fail:
                raise self.fail[k]

    # -- reads
    def find_project(self, name: str) -> IcaProject:
        self._check("find_project", name)
        if name not in self.projects:
            raise NotFound("ICA", "GET /api/projects", 404, f"no project {name}")
        return self.projects[name]

    def get_project(self, project_id: str) -> IcaProject:
        return next(p for p in self.projects.values() if p.id == project_id)

    def list_analyses(self, project_id: str, statuses: Iterable[str] | None = None):
        self._check("list_analyses", project_id)
        return iter(list(self.analyses.get(project_id, [])))

    def get_analysis(self, project_id: str, analysis_id: str) -> IcaAnalysis:
        self._check("get_analysis", analysis_id)
        for a in self.analyses.get(project_id, []):
            if a.id == analysis_id:
                return a
        raise NotFound("ICA", "GET analysis", 404)

    def analysis_outputs(self, project_id: str, analysis_id: str) -> list[IcaOutput]:
        self._check("analysis_outputs", analysis_id)
        fid = self.outputs.get(analysis_id)
        return [IcaOutput(code="Output", data_id=fid, name="output", data_type="FOLDER")] if fid else []

    def list_data(self, project_id: str, *, path_prefix=None, full_path=None, parent_folder_path=None, ids=None,
                  data_type=None, statuses=None, filenames=None):
        self._check("list_data", project_id)
        out = []
        for (pid, _), d in sorted(self.items.items()):
            if pid != project_id:
                continue
            if path_prefix is not None and not d.path.startswith(path_prefix):
                continue
            if full_path is not None and d.path != full_path:
                continue
            if parent_folder_path is not None:
                parent = d.path.rstrip("/").rsplit("/", 1)[0] + "/"
                if parent != parent_folder_path:
                    continue
            if ids is not None and d.id not in set(ids):
                continue
            if data_type and d.data_type != data_type:
                continue
            if filenames and d.name not in set(filenames):
                continue
            out.append(d)
        return iter(out)

    def get_data(self, project_id: str, data_id: str) -> IcaData:
        self._check("get_data", data_id)
        if (project_id, data_id) not in self.items:
            raise NotFound("ICA", "GET data", 404)
        return self.items[(project_id, data_id)]

    def read_bytes(self, project_id: str, data_id: str, max_bytes: int = 1 << 20) -> bytes:
        self._check("read_bytes", data_id)
        return self.contents[data_id]

    # -- writes
    def link(self, to_project_id: str, data_ids: list[str]) -> list[LinkResult]:
        self._check("link", to_project_id)
        out = []
        for did in data_ids:
            src = next(d for (pid, i), d in self.items.items() if i == did)
            self.items[(to_project_id, did)] = replace(src, project_id=to_project_id, owning_project_id=src.project_id)
            out.append(LinkResult(did, True))
        return out

    def _set_status(self, project_id: str, data_id: str, status: str) -> None:
        d = self.items[(project_id, data_id)]
        self.items[(project_id, data_id)] = replace(d, status=status, raw={**d.raw, "data": {
            **d.raw["data"], "details": {**d.raw["data"]["details"], "status": status}}})

    def archive(self, project_id: str, data_id: str) -> None:
        self._check("archive", data_id)
        self._set_status(project_id, data_id, "ARCHIVING")

    def unarchive(self, project_id: str, data_id: str) -> None:
        self._check("unarchive", data_id)
        self._set_status(project_id, data_id, "UNARCHIVING")

    def delete(self, project_id: str, data_id: str) -> None:
        self._check("delete", data_id)
        self._set_status(project_id, data_id, "DELETING")

    def create_file(self, project_id: str, folder_path: str, name: str) -> IcaData:
        self._check("create_file", name)
        path = folder_path + name
        if any(d.path == path for (pid, _), d in self.items.items() if pid == project_id):
            raise Conflict("ICA", "POST createFile", 409)
        d = data(project_id, path, f"fil.new{len(self.items)}", status="PARTIAL")
        return self.add(d)

    def upload_bytes(self, project_id: str, data_id: str, content: bytes) -> None:
        self._check("upload_bytes", data_id)
        self.uploads[data_id] = content
        self._set_status(project_id, data_id, "AVAILABLE")


@dataclass
class FakeBssh:
    projects: list[BsshProject] = field(default_factory=list)
    datasets: dict[str, BsshDataset] = field(default_factory=dict)
    runs: dict[str, BsshRun] = field(default_factory=dict)
    fail: dict[str, Exception] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    trash_emptied: int = 0
    instant: bool = True  # False: archive/restore are accepted but take effect later (like real BaseSpace)

    def _check(self, call: str, key: str = "") -> None:
        self.calls[call] += 1
        for k in (call, f"{call}:{key}"):
            if k in self.fail:
                raise self.fail[k]

    def add_dataset(self, pid: str, did: str, name: str, created: str, archived: bool = False) -> BsshDataset:
        d = BsshDataset(id=did, name=name, project_id=pid, date_created=ts(created), is_archived=archived,
                        raw={"Id": did, "Name": name, "DateCreated": created, "IsArchived": archived})
        self.datasets[did] = d
        return d

    def add_run(self, rid: str, name: str, created: str, archived: bool = False, status: str = "Complete") -> BsshRun:
        r = BsshRun(id=rid, name=name, experiment_name="exp", date_created=ts(created), status=status,
                    is_archived=archived, raw={"Id": rid, "Name": name, "DateCreated": created,
                                               "IsArchived": archived, "Status": status})
        self.runs[rid] = r
        return r

    def list_projects(self):
        self._check("list_projects")
        return iter(list(self.projects))

    def list_datasets(self, project_id: str, is_archived=None):
        self._check("list_datasets", project_id)
        return iter([d for d in self.datasets.values() if d.project_id == project_id])

    def get_dataset(self, dataset_id: str) -> BsshDataset:
        self._check("get_dataset", dataset_id)
        if dataset_id not in self.datasets:
            raise NotFound("BaseSpace", "GET /v2/datasets/{id}", 404)
        return self.datasets[dataset_id]

    def list_runs(self, statuses=None):
        self._check("list_runs")
        return iter(list(self.runs.values()))

    def get_run(self, run_id: str) -> BsshRun:
        self._check("get_run", run_id)
        if run_id not in self.runs:
            raise NotFound("BaseSpace", "GET /v2/runs/{id}", 404)
        return self.runs[run_id]

    def _flip(self, ids, store, archived: bool) -> None:
        for i in ids:
            o = store[i]
            store[i] = replace(o, is_archived=archived, raw={**o.raw, "IsArchived": archived})

    def archive(self, dataset_ids=(), run_ids=()) -> None:
        self._check("archive")
        if not self.instant:
            return
        self._flip(dataset_ids, self.datasets, True)
        self._flip(run_ids, self.runs, True)

    def restore(self, dataset_ids=(), run_ids=()) -> None:
        self._check("restore")
        if not self.instant:
            return
        self._flip(dataset_ids, self.datasets, False)
        self._flip(run_ids, self.runs, False)

    def delete_dataset(self, dataset_id: str) -> None:
        self._check("delete_dataset", dataset_id)
        del self.datasets[dataset_id]

    def delete_run(self, run_id: str) -> None:
        self._check("delete_run", run_id)
        del self.runs[run_id]

    def empty_trash(self) -> None:
        self._check("empty_trash")
        self.trash_emptied += 1

    def check_scopes(self, required) -> None:
        return None


def api_error(call: str = "GET x", status: int = 500) -> ApiError:
    return ApiError("ICA", call, status)
