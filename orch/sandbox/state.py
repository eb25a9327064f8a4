"""The sandbox's in-memory state: ICA projects, data, analyses, BaseSpace objects.

Built to hold a 1,000,000-file world: every file is one slotted ``DataItem``; each
project keeps its items in a ``PathIndex`` (two parallel lists sorted by path, so
prefix listings, direct children and cursor paging are bisections, not scans) and the
world keeps one id index. Linked data is the same ``DataItem`` object indexed in a
second project. Asynchronous work (archive, unarchive, delete, link batches,
BaseSpace archive/restore) carries a due time on the sandbox clock and is settled by
``World.settle(now)``, which the server calls before answering each request.
"""

from __future__ import annotations

import heapq
import hashlib
import uuid
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterator

TRANSIT = ("ARCHIVING", "UNARCHIVING", "DELETING")
DATA_STATUSES = ("PARTIAL", "AVAILABLE", "ARCHIVING", "ARCHIVED", "UNARCHIVING", "DELETING")
ANALYSIS_STATUSES = ("REQUESTED", "AWAITINGINPUT", "INPROGRESS", "SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED")
# Tag kinds by their API names (DataDetails.tags / AnalysisTag), in the spec's order.
DATA_TAG_KINDS = ("technicalTags", "userTags", "connectorTags", "runInTags", "runOutTags", "referenceTags")
ANALYSIS_TAG_KINDS = ("technicalTags", "userTags", "referenceTags")
_NS = uuid.UUID("6f1d8e62-5b0e-4c55-9a51-0c8f3f7f6a11")
_END = "\U0010ffff"


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "\x1f".join(parts)))


def stable_hex(*parts: str, n: int = 32) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:n]


def data_id_for(project_id: str, path: str) -> str:
    prefix = "fol." if path.endswith("/") else "fil."
    return prefix + stable_hex("data", project_id, path)


@dataclass(slots=True, eq=False)
class Timing:
    archive: timedelta = timedelta(hours=1)
    unarchive: timedelta = timedelta(hours=6)
    delete: timedelta = timedelta(minutes=10)
    link_batch: timedelta = timedelta(seconds=5)


@dataclass(slots=True, eq=False)
class DataItem:
    """One ICA file or folder (folders' paths end with ``/``)."""

    id: str
    owner: "IcaProject"
    path: str
    status: str
    time_created: datetime
    time_modified: datetime
    size: int | None = None
    content: bytes | None = None  # bytes given by the world or uploaded
    due_at: datetime | None = None  # when an in-transit status settles
    format_code: str | None = None
    tags: "Tags | None" = None  # None (most items): no tags of any kind
    will_archive_at: datetime | None = None  # willBeArchivedAt: ICA archives it by itself then
    will_delete_at: datetime | None = None  # willBeDeletedAt: ICA deletes it by itself then

    @property
    def is_folder(self) -> bool:
        return self.path.endswith("/")

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent_path(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[0] + "/"


@dataclass(slots=True, frozen=True)
class Tags:
    """An object's ICA tags: kind (API name, e.g. ``userTags``) -> tags, only non-empty kinds."""

    by_kind: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, kinds: dict[str, list[str] | tuple[str, ...]]) -> "Tags | None":
        """Tags from a kind -> list mapping (order kept, duplicates dropped); None when all are empty."""
        items = tuple((k, tuple(dict.fromkeys(v))) for k, v in sorted(kinds.items()) if v)
        return cls(items) if items else None

    def as_dict(self) -> dict[str, list[str]]:
        """Only the non-empty kinds (the world dump's form)."""
        return {k: list(v) for k, v in self.by_kind}

    def get(self, kind: str) -> tuple[str, ...]:
        return dict(self.by_kind).get(kind, ())

    def as_json(self, kinds: tuple[str, ...]) -> dict[str, list[str]]:
        """Every kind of ``kinds`` (empty lists included), as the API shows them."""
        have = dict(self.by_kind)
        return {k: list(have.get(k, ())) for k in kinds}


def tags_json(tags: Tags | None, kinds: tuple[str, ...]) -> dict[str, list[str]]:
    return tags.as_json(kinds) if tags is not None else {k: [] for k in kinds}


def path_key(path: str) -> tuple[str, str]:
    """Sort key of the path index: case-insensitive first (ICA's path filters are), then exact."""
    return (path.lower(), path)


def _key(item: "DataItem") -> tuple[str, str]:
    return (item.path.lower(), item.path)


class PathIndex:
    """Items of one project sorted by ``path_key``.

    A case-insensitive path prefix (so a folder's subtree) is one contiguous range;
    no per-item key is stored (bisect computes it), which keeps 1M files cheap.
    """

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[DataItem] = []

    def __len__(self) -> int:
        return len(self.items)

    def _find(self, path: str) -> int:
        return bisect_left(self.items, path_key(path), key=_key)

    def get(self, path: str) -> DataItem | None:
        i = self._find(path)
        if i < len(self.items) and self.items[i].path == path:
            return self.items[i]
        return None

    def insert(self, item: DataItem) -> None:
        i = self._find(item.path)
        if i < len(self.items) and self.items[i].path == item.path:
            raise KeyError(item.path)
        self.items.insert(i, item)

    def bulk_load(self, items: list[DataItem]) -> None:
        merged = self.items + items
        merged.sort(key=_key)
        for a, b in zip(merged, merged[1:]):
            if a.path == b.path:
                raise KeyError(a.path)
        self.items = merged

    def remove(self, path: str) -> None:
        i = self._find(path)
        if i < len(self.items) and self.items[i].path == path:
            del self.items[i]

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """Index range of the items whose path starts with ``prefix``, ignoring case."""
        low = prefix.lower()
        return (bisect_left(self.items, (low, ""), key=_key),
                bisect_left(self.items, (low + _END, ""), key=_key))

    def iter_from(self, after: str | None = None, prefix: str = "") -> Iterator[DataItem]:
        """Items in index order whose path starts with ``prefix`` (any case), after path ``after``."""
        lo, hi = self.prefix_range(prefix)
        if after is not None:
            lo = max(lo, bisect_right(self.items, path_key(after), key=_key))
        items = self.items
        for i in range(lo, hi):
            yield items[i]

    def iter_equal_ci(self, path: str, after: str | None = None) -> Iterator[DataItem]:
        """Items whose path equals ``path`` ignoring case, in index order, after path ``after``."""
        low = path.lower()
        lo = bisect_left(self.items, (low, ""), key=_key)
        hi = bisect_left(self.items, (low, _END), key=_key)
        if after is not None:
            lo = max(lo, bisect_right(self.items, path_key(after), key=_key))
        for i in range(lo, hi):
            yield self.items[i]

    def subtree(self, folder_path: str) -> list[DataItem]:
        """The folder itself (if indexed) and everything under it (exact case)."""
        lo, hi = self.prefix_range(folder_path)
        return [it for it in self.items[lo:hi] if it.path.startswith(folder_path)]

    def iter_children(self, folder_path: str, after: str | None = None) -> Iterator[DataItem]:
        """Direct children of ``folder_path`` in index order, jumping over sub-folders' trees."""
        items = self.items
        lo, hi = self.prefix_range(folder_path)
        i = lo
        if after is not None:
            i = max(i, bisect_right(items, path_key(after), key=_key))
        while i < hi:
            path = items[i].path
            if not path.startswith(folder_path) or path == folder_path:
                i += 1
                continue
            rest = path[len(folder_path):]
            slash = rest.find("/")
            if slash == -1:
                yield items[i]
                i += 1
            elif slash == len(rest) - 1:  # a child folder (and its case variants): then skip its tree
                low = path.lower()
                while i < hi and items[i].path.lower() == low:
                    if items[i].path.startswith(folder_path):
                        yield items[i]
                    i += 1
                i = max(i, bisect_left(items, (low + _END, ""), key=_key))
            else:  # deeper item without an indexed folder in between (linked data)
                i += 1


@dataclass(slots=True, eq=False)
class Analysis:
    id: str
    reference: str
    user_reference: str
    pipeline: str
    status: str
    time_created: datetime
    time_modified: datetime
    start_date: datetime | None = None
    end_date: datetime | None = None
    output: str | None = None  # output folder path
    output_id: str | None = None  # its id, kept after the folder is deleted (as ICA keeps the record)
    tags: Tags | None = None
    finish_at: datetime | None = None  # world ``finishAt``: becomes SUCCEEDED when the clock passes it


@dataclass(slots=True, eq=False)
class IcaProject:
    id: str
    name: str
    time_created: datetime
    short_description: str = ""
    data_sharing: bool = True  # dataSharingEnabled: may its data be linked into other projects
    kms: bool = False  # storage encrypted with SSE-KMS (uploads must carry the project's key)
    kms_key_arn: str | None = None  # set when the sandbox starts (a moto KMS key)
    data: PathIndex = field(default_factory=PathIndex)
    analyses: list[Analysis] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class LinkBatchItem:
    id: str
    data_id: str
    status: str = "INITIALISED"  # INITIALISED | LINKED | ALREADY_LINKED | FAILED
    message: str | None = None


@dataclass(slots=True, eq=False)
class LinkBatch:
    id: str
    job_id: str
    project_id: str
    time_created: datetime
    due_at: datetime
    items: list[LinkBatchItem]
    status: str = "RUNNING"  # RUNNING | SUCCEEDED | PARTIALLY_SUCCEEDED | FAILED
    time_finished: datetime | None = None


@dataclass(slots=True, eq=False)
class BsProject:
    Id: str
    Name: str
    DateCreated: datetime
    Description: str = ""
    datasets: list["Dataset"] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Dataset:
    Id: str
    Name: str
    project: BsProject
    DateCreated: datetime
    DateModified: datetime
    IsArchived: bool = False
    TotalSize: int = 0
    DatasetType: str = "illumina.fastq.v1.8"
    QcStatus: str = "QcPassed"
    pending: str | None = None  # "Archiving" | "Restoring" while asynchronous work runs
    due_at: datetime | None = None
    IsFileDataDeleted: bool = False
    shared: bool = False  # sandbox-only: shared with others (BaseSpace refuses to archive it)


@dataclass(slots=True, eq=False)
class Run:
    Id: str
    Name: str
    DateCreated: datetime
    DateModified: datetime
    ExperimentName: str = ""
    Status: str = "Complete"
    IsArchived: bool = False
    TotalSize: int = 0
    pending: str | None = None
    due_at: datetime | None = None
    IsFileDataDeleted: bool = False
    shared: bool = False


@dataclass(slots=True, eq=False)
class TrashItem:
    Id: str
    DateDeleted: datetime
    dataset: Dataset | None = None
    run: Run | None = None

    @property
    def Name(self) -> str:
        return (self.dataset or self.run).Name  # type: ignore[union-attr]

    @property
    def TotalSize(self) -> int:
        return (self.dataset or self.run).TotalSize  # type: ignore[union-attr]


class StateError(Exception):
    """A request the platform would refuse; ``status`` is the HTTP code to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(eq=False)
class World:
    """The whole sandbox state (and what a world file describes)."""

    now: datetime
    api_key: str = "sandbox-key"
    access_token: str = "sandbox-token"
    scopes: list[str] = field(default_factory=lambda: ["READ GLOBAL", "BROWSE GLOBAL", "MOVETOTRASH GLOBAL", "EMPTY TRASH"])
    timing: Timing = field(default_factory=Timing)
    projects: list[IcaProject] = field(default_factory=list)
    projects_by_id: dict[str, IcaProject] = field(default_factory=dict)
    data_by_id: dict[str, DataItem] = field(default_factory=dict)
    links: dict[str, list[IcaProject]] = field(default_factory=dict)  # data id -> projects it is linked into
    link_batches: dict[str, LinkBatch] = field(default_factory=dict)
    bs_projects: list[BsProject] = field(default_factory=list)
    datasets_by_id: dict[str, Dataset] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    runs_by_id: dict[str, Run] = field(default_factory=dict)
    trash: list[TrashItem] = field(default_factory=list)
    refused_routes: set[str] = field(default_factory=set)  # "METHOD /template" answered like unknown routes
    _due: list[tuple[datetime, int, str, str]] = field(default_factory=list, repr=False)
    _seq: int = 0

    # ------------------------------------------------------------------ ICA data
    def add_project(self, project: IcaProject) -> None:
        if project.id in self.projects_by_id:
            raise StateError(409, f"duplicate ICA project id {project.id}")
        self.projects.append(project)
        self.projects_by_id[project.id] = project

    def ensure_folders(self, project: IcaProject, path: str, when: datetime) -> None:
        """Create the implied parent folders of ``path`` (not the root)."""
        parts = path.rstrip("/").split("/")[1:-1]
        cur = "/"
        for part in parts:
            cur += part + "/"
            if project.data.get(cur) is None:
                self.add_data(DataItem(id=data_id_for(project.id, cur), owner=project, path=cur,
                                       status="AVAILABLE", time_created=when, time_modified=when))

    def add_data(self, item: DataItem) -> None:
        if item.id in self.data_by_id:
            raise StateError(409, f"duplicate data id {item.id}")
        item.owner.data.insert(item)
        self.data_by_id[item.id] = item
        if item.due_at is not None:
            self.schedule(item.due_at, "data", item.id)

    def projects_of(self, item: DataItem) -> list[IcaProject]:
        return [item.owner, *self.links.get(item.id, ())]

    def visible_in(self, item: DataItem, project: IcaProject) -> bool:
        return item.owner is project or project in self.links.get(item.id, ())

    def link(self, item: DataItem, project: IcaProject) -> str:
        """Link ``item`` (and a folder's subtree) into ``project``; returns LINKED or ALREADY_LINKED."""
        if self.visible_in(item, project):
            return "ALREADY_LINKED"
        if not item.owner.data_sharing:
            raise StateError(403, f"project {item.owner.name} does not allow data sharing (dataSharingEnabled is "
                                  f"false): its data cannot be linked into other projects")
        existing = project.data.get(item.path)
        if existing is not None:
            raise StateError(409, f"a different item already exists at {item.path} in project {project.name}")
        targets = item.owner.data.subtree(item.path) if item.is_folder else [item]
        for it in targets:
            if self.visible_in(it, project) or project.data.get(it.path) is not None:
                continue
            project.data.insert(it)
            self.links.setdefault(it.id, []).append(project)
        return "LINKED"

    def unlink(self, item: DataItem, project: IcaProject) -> None:
        if item.owner is project:
            raise StateError(400, f"data {item.id} is owned by project {project.name}; only linked data can be unlinked")
        linked = self.links.get(item.id, [])
        if project not in linked:
            raise StateError(404, f"data {item.id} is not linked into project {project.name}")
        linked.remove(project)
        if not linked:
            del self.links[item.id]
        project.data.remove(item.path)

    def _remove_data(self, item: DataItem) -> None:
        for project in self.projects_of(item):
            project.data.remove(item.path)
        self.links.pop(item.id, None)
        self.data_by_id.pop(item.id, None)

    def start_transition(self, item: DataItem, op: str, now: datetime) -> None:
        """Archive / unarchive / delete ``item`` (a folder: everything under it)."""
        allowed = {"archive": ("AVAILABLE",), "unarchive": ("ARCHIVED",),
                   "delete": ("AVAILABLE", "ARCHIVED", "PARTIAL")}[op]
        status = {"archive": "ARCHIVING", "unarchive": "UNARCHIVING", "delete": "DELETING"}[op]
        if item.status not in allowed:
            raise StateError(400, f"data {item.id} is {item.status}; {op} needs {' or '.join(allowed)}")
        due = now + getattr(self.timing, op)
        targets = item.owner.data.subtree(item.path) if item.is_folder else [item]
        for it in targets:
            if it.status in allowed and (it is item or it.owner is item.owner):
                it.status, it.due_at, it.time_modified = status, due, now
                self.schedule(due, "data", it.id)

    def analysis_by_key(self, key: str) -> "Analysis | None":
        """``PROJECT_ID/ANALYSIS_ID`` (the key of a scheduled ``finishAt``)."""
        pid, _, aid = key.partition("/")
        project = self.projects_by_id.get(pid)
        return next((a for a in project.analyses if a.id == aid), None) if project else None

    # ------------------------------------------------------------------ async work
    def schedule(self, due: datetime, kind: str, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._due, (due, self._seq, kind, key))

    def settle(self, now: datetime) -> None:
        """Complete every piece of asynchronous work whose due time has passed."""
        while self._due and self._due[0][0] <= now:
            due, _, kind, key = heapq.heappop(self._due)
            if kind == "data":
                item = self.data_by_id.get(key)
                if item is None or item.due_at != due:
                    continue
                item.due_at, item.time_modified = None, due
                if item.status == "ARCHIVING":
                    item.status = "ARCHIVED"
                elif item.status == "UNARCHIVING":
                    item.status = "AVAILABLE"
                elif item.status == "DELETING":
                    self._remove_data(item)
            elif kind == "schedule":  # the platform's own willBeArchivedAt / willBeDeletedAt
                self._platform_schedule(key, due)
            elif kind == "batch":
                batch = self.link_batches.get(key)
                if batch is not None and batch.status == "RUNNING" and batch.due_at == due:
                    self._finish_batch(batch)
            elif kind == "analysis":  # world ``finishAt``
                a = self.analysis_by_key(key)
                if a is None or a.finish_at != due:
                    continue
                a.status, a.end_date, a.time_modified, a.finish_at = "SUCCEEDED", due, due, None
            elif kind in ("dataset", "run"):
                obj = (self.datasets_by_id if kind == "dataset" else self.runs_by_id).get(key)
                if obj is None or obj.due_at != due:
                    continue
                obj.IsArchived = obj.pending == "Archiving"  # already true since the request (restore: flips now)
                obj.pending, obj.due_at, obj.DateModified = None, None, due

    def schedule_platform(self, item: DataItem) -> None:
        for when in (item.will_archive_at, item.will_delete_at):
            if when is not None:
                self.schedule(when, "schedule", item.id)

    def _platform_schedule(self, data_id: str, due: datetime) -> None:
        """ICA acts on a file whose willBeDeletedAt / willBeArchivedAt has come (delete wins)."""
        item = self.data_by_id.get(data_id)
        if item is None or due not in (item.will_archive_at, item.will_delete_at):
            return
        op = "delete" if item.will_delete_at is not None and item.will_delete_at <= due else "archive"
        if op == "delete":
            item.will_delete_at = None
        else:
            item.will_archive_at = None
        try:
            self.start_transition(item, op, due)
        except StateError:
            pass  # already archived / in transit: nothing to do

    def _finish_batch(self, batch: LinkBatch) -> None:
        project = self.projects_by_id[batch.project_id]
        for it in batch.items:
            item = self.data_by_id.get(it.data_id)
            if item is None:
                it.status, it.message = "FAILED", f"data {it.data_id} not found"
                continue
            try:
                it.status = self.link(item, project)
            except StateError as exc:
                it.status, it.message = "FAILED", exc.message
        ok = sum(it.status in ("LINKED", "ALREADY_LINKED") for it in batch.items)
        batch.status = ("SUCCEEDED" if ok == len(batch.items)
                        else "FAILED" if ok == 0 else "PARTIALLY_SUCCEEDED")
        batch.time_finished = batch.due_at

    def create_link_batch(self, project: IcaProject, data_ids: list[str], now: datetime) -> LinkBatch:
        self._seq += 1
        bid = stable_uuid("batch", project.id, str(self._seq), now.isoformat())
        batch = LinkBatch(id=bid, job_id=stable_uuid("job", bid), project_id=project.id, time_created=now,
                          due_at=now + self.timing.link_batch,
                          items=[LinkBatchItem(id=stable_uuid("item", bid, str(i)), data_id=d)
                                 for i, d in enumerate(data_ids)])
        self.add_link_batch(batch)
        return batch

    def add_link_batch(self, batch: LinkBatch) -> None:
        self.link_batches[batch.id] = batch
        if batch.status == "RUNNING":
            self.schedule(batch.due_at, "batch", batch.id)

    # ------------------------------------------------------------------ BaseSpace
    def add_dataset(self, ds: Dataset) -> None:
        if ds.Id in self.datasets_by_id:
            raise StateError(409, f"duplicate dataset id {ds.Id}")
        ds.project.datasets.append(ds)
        self.datasets_by_id[ds.Id] = ds
        if ds.due_at is not None:
            self.schedule(ds.due_at, "dataset", ds.Id)

    def add_run(self, run: Run) -> None:
        if run.Id in self.runs_by_id:
            raise StateError(409, f"duplicate run id {run.Id}")
        self.runs.append(run)
        self.runs_by_id[run.Id] = run
        if run.due_at is not None:
            self.schedule(run.due_at, "run", run.Id)

    @staticmethod
    def bs_refusal(obj: Dataset | Run, restore: bool) -> str:
        """Why BaseSpace refuses to archive / restore ``obj`` ("" when it accepts; a repeat is accepted)."""
        kind = "dataset" if isinstance(obj, Dataset) else "run"
        if restore:
            if obj.pending == "Archiving":
                return f"{kind} {obj.Id} is still archiving; it cannot be restored until archiving is complete"
            if not obj.IsArchived:
                return f"{kind} {obj.Id} is not archived"
            return ""
        if obj.IsFileDataDeleted:
            return f"{kind} {obj.Id} has its files deleted; it cannot be archived"
        if obj.shared:
            return f"{kind} {obj.Id} is shared; shared data cannot be archived"
        if obj.IsArchived:  # from the archive request on (a repeat of it included)
            return f"{kind} {obj.Id} is already archived"
        if isinstance(obj, Run) and obj.Status not in ("Complete", "Stopped", "Failed"):
            return f"run {obj.Id} is {obj.Status}; only Complete, Stopped or Failed runs can be archived"
        return ""

    def bs_archive(self, obj: Dataset | Run, restore: bool, now: datetime) -> None:
        """Accept an archive (``IsArchived`` true at once, the work completes at ``timing.archive``) or a
        restore (``IsArchived`` stays true until ``timing.unarchive`` has passed)."""
        kind = "dataset" if isinstance(obj, Dataset) else "run"
        if why := self.bs_refusal(obj, restore):
            raise StateError(400, why)
        if restore and obj.pending == "Restoring":
            return  # the same restore again: already under way (unverified: BaseSpace may refuse it)
        if restore:
            obj.pending, obj.due_at = "Restoring", now + self.timing.unarchive
        else:
            obj.IsArchived = True
            obj.pending, obj.due_at = "Archiving", now + self.timing.archive
        self.schedule(obj.due_at, kind, obj.Id)

    def move_to_trash(self, obj: Dataset | Run, now: datetime) -> TrashItem:
        if isinstance(obj, Dataset):
            obj.project.datasets.remove(obj)
            del self.datasets_by_id[obj.Id]
            item = TrashItem(Id=stable_hex("trash", obj.Id, n=24), DateDeleted=now, dataset=obj)
        else:
            self.runs.remove(obj)
            del self.runs_by_id[obj.Id]
            item = TrashItem(Id=stable_hex("trash", obj.Id, n=24), DateDeleted=now, run=obj)
        obj.pending, obj.due_at = None, None
        self.trash.append(item)
        return item
