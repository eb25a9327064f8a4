"""What the engine may ask of the platforms. ``ica.IcaClient`` and
``basespace.BasespaceClient`` implement these; the engine depends only on these
protocols, so tests and the planner never see HTTP details.

Every method raises ``orch.errors.ApiError`` (or a subclass) after its retry budget.
Iterators stream pages lazily at the largest page size the API allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

from orch.errors import ApiError
from orch.inventory import BsshDataset, BsshProject, BsshRun, IcaAnalysis, IcaData, IcaOutput, IcaProject


@dataclass
class LinkResult:
    data_id: str
    ok: bool
    message: str = ""  # why it failed, or "already linked"


@dataclass
class BulkResult:
    """One item of a BaseSpace archive/restore batch."""

    kind: str  # "dataset" | "run"
    id: str
    ok: bool
    message: str = ""  # why it failed, or "already archived" / "already restored"


class RouteUnavailable(ApiError):
    """The server does not know a route orch called (404/405 not about the item): stop using it."""


class IcaApi(Protocol):
    def find_project(self, name: str) -> IcaProject:
        """Exact name match after ``search``; zero or several matches raise NotFound/ConfigError."""

    def get_project(self, project_id: str) -> IcaProject: ...

    def list_analyses(self, project_id: str, statuses: Iterable[str] | None = None) -> Iterator[IcaAnalysis]: ...

    def get_analysis(self, project_id: str, analysis_id: str) -> IcaAnalysis: ...

    def analysis_outputs(self, project_id: str, analysis_id: str) -> list[IcaOutput]: ...

    def list_data(
        self,
        project_id: str,
        *,
        path_prefix: str | None = None,  # filePath STARTS_WITH (recursive)
        full_path: str | None = None,  # filePath FULL_CASE_INSENSITIVE (one item)
        parent_folder_path: str | None = None,  # direct children only
        ids: Iterable[str] | None = None,  # batch get: id[] filter
        data_type: str | None = None,  # FILE | FOLDER
        statuses: Iterable[str] | None = None,
        filenames: Iterable[str] | None = None,  # filenameMatchMode EXACT
    ) -> Iterator[IcaData]: ...

    def get_data(self, project_id: str, data_id: str) -> IcaData: ...

    def read_bytes(self, project_id: str, data_id: str, max_bytes: int = 1 << 20) -> bytes:
        """Download a small file (createDownloadUrl, then GET the URL)."""

    def link(self, to_project_id: str, data_ids: list[str]) -> list[LinkResult]:
        """Link via dataLinkingBatch; polls the job to a final state within a bounded time."""

    def archive(self, project_id: str, data_id: str) -> None: ...

    def unarchive(self, project_id: str, data_id: str) -> None: ...

    def delete(self, project_id: str, data_id: str) -> None: ...

    def create_file(self, project_id: str, folder_path: str, name: str) -> IcaData:
        """Raises Conflict when a file already exists at that path."""

    def upload_bytes(self, project_id: str, data_id: str, content: bytes) -> None:
        """Upload through createTemporaryCredentials + boto3 (multipart-capable)."""

    def add_data_user_tags(self, project_id: str, data_id: str, tags: Iterable[str]) -> list[str]:
        """Add user tags to a file or folder: read it, PUT the union (nothing when all are there).
        Returns the tags that were missing (empty: already tagged)."""

    def add_analysis_user_tags(self, project_id: str, analysis_id: str, tags: Iterable[str]) -> list[str]:
        """The same for an analysis (PUT with If-Match; a conflicting update is re-read and merged)."""

    # -- conveniences built on the calls above (added with the connectors) --
    def get_many(self, project_id: str, data_ids: Iterable[str]) -> dict[str, IcaData]:
        """Batch get by id (id filter, 100 per request); missing ids are absent."""

    def files_under(self, project_id: str, folder_path: str) -> list[IcaData]:
        """Every file below a folder, recursively: one paged listing."""

    def files_under_folders(self, project_id: str, folder_paths: Iterable[str], *,
                            shared_root: str | None = None) -> dict[str, list[IcaData]]:
        """Files per folder: a listing per folder (concurrent), or one listing of ``shared_root``."""

    def output_files(self, project_id: str, analysis_id: str) -> list[IcaData]:
        """Files of an analysis's outputs (recursive), sorted by path."""

    def outputs_of(self, project_id: str, analysis_ids: Iterable[str]) -> dict[str, list[IcaOutput]]:
        """Outputs of many analyses, fetched concurrently."""

    def clear_cache(self) -> None:
        """Forget this run's memoised reads (writes do it themselves)."""


class BasespaceApi(Protocol):
    def list_projects(self) -> Iterator[BsshProject]: ...

    def list_datasets(self, project_id: str, is_archived: bool | None = None) -> Iterator[BsshDataset]: ...

    def get_dataset(self, dataset_id: str) -> BsshDataset: ...

    def list_runs(self, statuses: Iterable[str] | None = None) -> Iterator[BsshRun]: ...

    def get_run(self, run_id: str) -> BsshRun: ...

    def archive(self, dataset_ids: list[str] = (), run_ids: list[str] = ()) -> list[BulkResult]:
        """POST /v2/archive in batches of at most 250 ids; a refused batch is re-read item by item."""

    def restore(self, dataset_ids: list[str] = (), run_ids: list[str] = ()) -> list[BulkResult]: ...

    def delete_dataset(self, dataset_id: str) -> None:
        """Raises RouteUnavailable when the server does not know the (unverified) route."""

    def delete_run(self, run_id: str) -> None: ...

    def empty_trash(self) -> None: ...

    def check_scopes(self, required: Iterable[str]) -> None:
        """Raise AuthError naming every missing scope."""

    # -- conveniences (added with the connectors) --
    def projects_by_name(self, names: Iterable[str]) -> dict[str, list[BsshProject]]:
        """Exact-name lookup over one project listing; a name may match several projects."""

    def clear_cache(self) -> None:
        """Forget this run's memoised reads (writes do it themselves)."""
