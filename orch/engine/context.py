"""The planner's view of the platforms: lazy, cached reads for one run (``EvalContext``).

Nothing is read before a policy needs it and nothing is read twice: projects are resolved
once by name, analyses listed once per project, outputs read concurrently (bounded) only for
the analyses a policy still considers, output folders fetched in ``id[]`` batches, files
listed with one paged listing per folder prefix, bsshoutput.json files found with one
project-wide listing by file name and their contents kept in the ledger cache (keyed by data
id and version, so a file is downloaded once, ever). A failed read raises (ApiError or
ReadError): the planner then fails that policy closed.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, TypeVar

from orch.connectors.base import BasespaceApi, IcaApi
from orch.errors import AuthError, ConfigError, OrchError
from orch.inventory import BsshDataset, BsshProject, BsshRun, IcaAnalysis, IcaData, IcaProject

if TYPE_CHECKING:
    from orch.engine.ledger import Ledger

T = TypeVar("T")

BSSHOUTPUT_NAME = "bsshoutput.json"
#: the run folder at the start of an analysis userReference: YYMMDD or YYYYMMDD, instrument, run number, flowcell
RUN_FOLDER = re.compile(r"^((?:\d{6}|\d{8})_[A-Za-z0-9-]+_\d+_[A-Za-z0-9-]+?)(?=$|[^A-Za-z0-9-])")


class ReadError(OrchError):
    """A platform read returned something unusable (e.g. bsshoutput.json that is not JSON)."""


def run_folder(user_reference: str) -> str | None:
    """``20260801_LH00619_0013_B22CCFJLT4`` from ``20260801_LH00619_0013_B22CCFJLT4_BclConvert...``."""
    m = RUN_FOLDER.match(user_reference or "")
    return m.group(1) if m else None


@dataclass(frozen=True)
class BsshOutput:
    """An analysis's bsshoutput.json: its parsed ``doc``, or the ``error`` that kept it unreadable."""

    doc: dict[str, Any] | None = None
    error: OrchError | None = None


class _Memo:
    """Thread-safe memo that also remembers failures (a failed read is not retried in one run)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, tuple[bool, Any]] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, fetch: Callable[[], T]) -> T:
        with self._lock:
            hit = self._values.get(key)
            if hit is None:
                key_lock = self._key_locks.setdefault(key, threading.Lock())
        if hit is None:
            with key_lock:
                with self._lock:
                    hit = self._values.get(key)
                if hit is None:
                    try:
                        hit = (True, fetch())
                    except OrchError as exc:
                        hit = (False, exc)
                    with self._lock:
                        self._values[key] = hit
        ok, value = hit
        if not ok:
            raise value
        return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = (True, value)

    def has(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values


class PlanContext:
    """Implements ``orch.registry.EvalContext`` plus the relations the planner follows."""

    def __init__(self, ica: IcaApi | None, bssh: BasespaceApi | None, ledger: "Ledger | None", now: datetime,
                 concurrency: int = 8):
        self._ica = ica
        self._bssh = bssh
        self.ledger = ledger
        self.now = now
        self.concurrency = max(1, concurrency)
        self._memo = _Memo()

    # ---------------------------------------------------------------- plumbing
    @property
    def ica(self) -> IcaApi:
        if self._ica is None:
            raise ConfigError("these policies need ICA, but no ICA connection is configured")
        return self._ica

    @property
    def bssh(self) -> BasespaceApi:
        if self._bssh is None:
            raise ConfigError("these policies need BaseSpace, but no BaseSpace connection is configured")
        return self._bssh

    def map(self, fn: Callable[[Any], T], items: Iterable[Any]) -> list[T | OrchError]:
        """``fn`` over items on at most ``concurrency`` threads; an OrchError is returned, not raised."""
        items = list(items)

        def safe(x: Any) -> Any:
            try:
                return fn(x)
            except OrchError as exc:
                return exc

        if self.concurrency <= 1 or len(items) <= 1:
            return [safe(x) for x in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items)), thread_name_prefix="orch-plan") as pool:
            return list(pool.map(safe, items))

    # ---------------------------------------------------------------- ledger
    def is_managed(self, analysis: IcaAnalysis, group: str | None = None) -> bool:
        if self.ledger is None:
            return False
        return self.ledger.is_managed(analysis.id, group=group)

    # ---------------------------------------------------------------- ICA
    def project(self, name: str) -> IcaProject:
        return self._memo.get(("project", name), lambda: self.ica.find_project(name))

    def analyses(self, project_id: str) -> list[IcaAnalysis]:
        return self._memo.get(("analyses", project_id),
                              lambda: sorted(self.ica.list_analyses(project_id), key=lambda a: a.id))

    def outputs(self, analysis: IcaAnalysis):
        return self._memo.get(("outputs", analysis.id),
                              lambda: list(self.ica.analysis_outputs(analysis.project_id, analysis.id)))

    def prefetch_output_folders(self, analyses: Iterable[IcaAnalysis]) -> None:
        """Read outputs of many analyses concurrently, then their folders in ``id[]`` batches."""
        todo = [a for a in analyses if not self._memo.has(("folder", a.id))]
        if not todo:
            return
        self.map(self.outputs, todo)
        by_project: dict[str, list[IcaAnalysis]] = {}
        for a in todo:
            by_project.setdefault(a.project_id, []).append(a)
        for project_id, items in by_project.items():
            wanted: dict[str, str] = {}
            for a in items:
                try:
                    fid = self._folder_id(a)
                except OrchError:
                    continue  # the failure is remembered; output_folder() raises it
                if fid:
                    wanted[a.id] = fid
            try:
                found = {d.id: d for d in self.ica.list_data(project_id, ids=sorted(set(wanted.values())))}
            except OrchError:
                continue  # output_folder() retries per analysis and raises then
            for a in items:
                if a.id in wanted:
                    self._memo.put(("folder", a.id), found.get(wanted[a.id]))
                elif self._memo.has(("outputs", a.id)):
                    try:
                        self.outputs(a)
                        self._memo.put(("folder", a.id), None)
                    except OrchError:
                        pass

    def _folder_id(self, analysis: IcaAnalysis) -> str | None:
        folders = [o for o in self.outputs(analysis) if o.data_type == "FOLDER" and o.data_id]
        if not folders:
            return None
        folders.sort(key=lambda o: (o.code != "Output", o.code, o.data_id))
        return folders[0].data_id

    def output_folder(self, analysis: IcaAnalysis) -> IcaData | None:
        """The analysis output folder (None when the analysis has none, or it is gone)."""

        def fetch() -> IcaData | None:
            fid = self._folder_id(analysis)
            if not fid:
                return None
            found = list(self.ica.list_data(analysis.project_id, ids=[fid]))
            return found[0] if found else None

        return self._memo.get(("folder", analysis.id), fetch)

    def files_under(self, project_id: str, folder_path: str) -> list[IcaData]:
        """Every file below a folder (recursive): one paged listing, sorted by path."""
        return self._memo.get(("files", project_id, folder_path), lambda: sorted(
            (d for d in self.ica.list_data(project_id, path_prefix=folder_path, data_type="FILE")
             if d.path.startswith(folder_path) and not d.is_folder), key=lambda d: d.path))

    def contents_under(self, project_id: str, folder_path: str) -> list[IcaData]:
        """Everything below a folder, files and folders (recursive): one paged listing, sorted by path.
        Only the protect check of folder actions needs it (``Protect.why_inside``)."""
        return self._memo.get(("contents", project_id, folder_path), lambda: sorted(
            (d for d in self.ica.list_data(project_id, path_prefix=folder_path)
             if d.path.startswith(folder_path) and d.path != folder_path), key=lambda d: d.path))

    def output_files(self, analysis: IcaAnalysis) -> list[IcaData]:
        folder = self.output_folder(analysis)
        if folder is None:
            return []
        return self.files_under(analysis.project_id, folder.path)

    def data_by_ids(self, project_id: str, ids: Iterable[str]) -> dict[str, IcaData]:
        """Batch get (``id[]``) of data in a project; missing ids are absent."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        return self._memo.get(("ids", project_id, tuple(ids)),
                              lambda: {d.id: d for d in self.ica.list_data(project_id, ids=ids)})

    def folder_files(self, project_id: str, folder_path: str) -> dict[str, IcaData]:
        """Direct children of a folder by full path (one listing; {} when the folder does not exist)."""
        return self._memo.get(("children", project_id, folder_path), lambda: {
            d.path: d for d in self.ica.list_data(project_id, parent_folder_path=folder_path)})

    def data_at(self, project_id: str, path: str) -> IcaData | None:
        """The file or folder at exactly ``path`` (None when there is none)."""
        return self._memo.get(("at", project_id, path), lambda: next(
            (d for d in self.ica.list_data(project_id, full_path=path) if d.path == path), None))

    def _bsshoutput_files(self, project_id: str) -> list[IcaData]:
        return self._memo.get(("bsshoutput-files", project_id), lambda: sorted(
            (d for d in self.ica.list_data(project_id, filenames=[BSSHOUTPUT_NAME], data_type="FILE")
             if d.name == BSSHOUTPUT_NAME), key=lambda d: d.path))

    def bsshoutput_file(self, analysis: IcaAnalysis) -> IcaData | None:
        folder = self.output_folder(analysis)
        if folder is None:
            return None
        for f in self._bsshoutput_files(analysis.project_id):
            if f.path.startswith(folder.path):
                return f
        return None

    def bsshoutput(self, analysis: IcaAnalysis) -> BsshOutput | None:
        """The analysis outputs' bsshoutput.json, or None when there is none.

        A file that exists but cannot be read (archived, not JSON) has an ``error`` and no ``doc``:
        whether BaseSpace manages the analysis is still known (``managed_by`` only needs presence),
        while anything that needs its contents (``bsshoutput_project_names``) raises and fails closed.
        """
        f = self.bsshoutput_file(analysis)
        if f is None:
            return None
        try:
            return BsshOutput(doc=self._memo.get(("bsshoutput", f.id), lambda: self._read_json(f)))
        except (AuthError, ConfigError):
            raise
        except OrchError as exc:
            return BsshOutput(error=exc)

    def _read_json(self, f: IcaData) -> dict[str, Any]:
        key = ("bsshoutput", f.id, f.version)
        cached = self.ledger.cache_get(key) if self.ledger is not None else None
        if isinstance(cached, dict):
            return cached
        body = self.ica.read_bytes(f.project_id, f.id)
        try:
            parsed = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise ReadError(f"{f.path} is not valid JSON; cannot tell which BaseSpace projects it names") from None
        if not isinstance(parsed, dict):
            raise ReadError(f"{f.path} is not a JSON object; cannot tell which BaseSpace projects it names")
        if self.ledger is not None:
            self.ledger.cache_put(key, parsed)
        return parsed

    def bsshoutput_project_names(self, analysis: IcaAnalysis) -> list[str]:
        out = self.bsshoutput(analysis)
        if out is None:
            return []
        if out.error is not None:
            raise out.error
        projects = (out.doc or {}).get("Projects")
        if not isinstance(projects, dict):
            return []
        names = {str(v["Name"]) for v in projects.values() if isinstance(v, dict) and v.get("Name")}
        return sorted(names)

    # ---------------------------------------------------------------- BaseSpace
    def bssh_projects(self) -> dict[str, list[BsshProject]]:
        def fetch() -> dict[str, list[BsshProject]]:
            out: dict[str, list[BsshProject]] = {}
            for p in self.bssh.list_projects():
                out.setdefault(p.name, []).append(p)
            return out

        return self._memo.get(("bssh-projects",), fetch)

    def datasets(self, project_id: str) -> list[BsshDataset]:
        return self._memo.get(("datasets", project_id),
                              lambda: sorted(self.bssh.list_datasets(project_id), key=lambda d: d.id))

    def prefetch_datasets(self, project_ids: Iterable[str]) -> None:
        self.map(self.datasets, sorted(set(project_ids)))

    def runs(self) -> list[BsshRun]:
        return self._memo.get(("runs",), lambda: sorted(self.bssh.list_runs(), key=lambda r: r.id))

    def runs_by_name(self) -> dict[str, list[BsshRun]]:
        out: dict[str, list[BsshRun]] = {}
        for r in self.runs():
            out.setdefault(r.name, []).append(r)
        return out
