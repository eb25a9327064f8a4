"""Typed inventory objects: what the connectors return and the matchers read.

Each object keeps the platform's own JSON in ``raw`` so policies can compare any API
field (``field: pipeline.code``), while the fields orch itself reasons about are typed
and parsed (UTC datetimes). Field names in policies mirror the APIs: ICA camelCase,
BaseSpace PascalCase. ``attr("a.b")`` resolves a dotted path against ``field_view()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

_MISSING = object()


def _walk(view: dict[str, Any], path: str) -> Any:
    cur: Any = view
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return cur


def _tags(holder: Any, key: str) -> list[str]:
    tags = holder.get("tags") if isinstance(holder, dict) else None
    values = tags.get(key) if isinstance(tags, dict) else None
    return [str(t) for t in values] if isinstance(values, list) else []


class Resource:
    """Mixin shared by every inventory object.

    Typed views of API fields the engine reasons about (``tags``, ``user_tags``, ``version``,
    ``is_deleted``) are read from ``raw`` here, in one place: the engine never digs in API JSON.
    """

    kind: ClassVar[str]
    MISSING: ClassVar[object] = _MISSING

    @property
    def user_tags(self) -> list[str]:
        """ICA user tags (what the ``tag`` action adds); none for BaseSpace resources."""
        return []

    @property
    def tags(self) -> list[str]:
        """Every ICA tag, user then technical (what ``protect.tags`` matches); none for BaseSpace."""
        return []

    def field_view(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def attr(self, path: str, default: Any = _MISSING) -> Any:
        """Value of a dotted field path, or ``default`` (``Resource.MISSING`` if not given)."""
        value = _walk(self.field_view(), path)
        return default if value is _MISSING else value

    def ref(self) -> dict[str, Any]:
        """The ``resource`` object of a plan action (contracts section 2)."""
        raise NotImplementedError


def normalise_analysis_status(status: str) -> str:
    """ICA V4 spells statuses IN_PROGRESS / FAILED_FINAL, V3 INPROGRESS / FAILEDFINAL.

    orch uses the V3 spelling everywhere (as the MGI contract does).
    """
    return (status or "").replace("_", "").upper()


@dataclass(eq=False)
class IcaProject(Resource):
    kind: ClassVar[str] = "ica.project"
    id: str
    name: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def field_view(self) -> dict[str, Any]:
        return self.raw or {"id": self.id, "name": self.name}

    def ref(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(eq=False)
class IcaAnalysis(Resource):
    kind: ClassVar[str] = "ica.analysis"
    id: str
    project_id: str
    reference: str
    user_reference: str
    pipeline_code: str
    status: str  # normalised V3 spelling, see normalise_analysis_status
    time_created: datetime | None
    start_date: datetime | None
    end_date: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def user_tags(self) -> list[str]:
        return _tags(self.raw, "userTags")

    @property
    def tags(self) -> list[str]:
        return _tags(self.raw, "userTags") + _tags(self.raw, "technicalTags")

    def field_view(self) -> dict[str, Any]:
        view = dict(self.raw)
        view.update(id=self.id, reference=self.reference, userReference=self.user_reference,
                    status=self.status, projectId=self.project_id)
        view.setdefault("pipeline", {"code": self.pipeline_code})
        return view

    def ref(self) -> dict[str, Any]:
        from orch.timeutil import format_ts

        return {"kind": self.kind, "id": self.id, "project_id": self.project_id,
                "name": self.reference, "reference": self.reference,
                "user_reference": self.user_reference, "pipeline": self.pipeline_code,
                "status": self.status, "start_date": format_ts(self.start_date),
                "time_created": format_ts(self.time_created)}


@dataclass(eq=False)
class IcaOutput:
    """One entry of ``GET .../analyses/{id}/outputs`` (``items[].data[]``)."""

    code: str
    data_id: str
    name: str
    data_type: str  # FILE | FOLDER


@dataclass(eq=False)
class IcaData(Resource):
    kind: ClassVar[str] = "ica.data"
    id: str
    project_id: str  # the project it was listed in
    owning_project_id: str  # differs from project_id when linked in
    name: str
    path: str  # full path; folders end with "/"
    data_type: str  # FILE | FOLDER
    status: str  # PARTIAL|AVAILABLE|ARCHIVING|ARCHIVED|UNARCHIVING|DELETING
    time_created: datetime | None
    time_modified: datetime | None = None
    size: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_folder(self) -> bool:
        return self.data_type == "FOLDER"

    @property
    def _details(self) -> dict[str, Any]:
        data = self.raw.get("data") if self.raw else None
        details = data.get("details") if isinstance(data, dict) else None
        return details if isinstance(details, dict) else {}

    @property
    def user_tags(self) -> list[str]:
        return _tags(self._details, "userTags")

    @property
    def tags(self) -> list[str]:
        return _tags(self._details, "userTags") + _tags(self._details, "technicalTags")

    @property
    def version(self) -> str:
        """What changes when the content changes: the object ETag (else timeModified, else the size)."""
        d = self._details
        return str(d.get("objectETag") or d.get("timeModified") or str(self.size or ""))

    def field_view(self) -> dict[str, Any]:
        # ProjectData is {data: {id, urn, details: {...}}, projectId}: flatten details.
        data = self.raw.get("data", {}) if self.raw else {}
        view = dict(data.get("details") or {})
        view.update({k: v for k, v in data.items() if k != "details"})
        view.update(id=self.id, projectId=self.project_id, owningProjectId=self.owning_project_id,
                    name=self.name, path=self.path, dataType=self.data_type, status=self.status)
        return view

    def ref(self) -> dict[str, Any]:
        from orch.timeutil import format_ts

        return {"kind": self.kind, "id": self.id, "project_id": self.project_id, "name": self.name,
                "path": self.path, "status": self.status, "time_created": format_ts(self.time_created)}


@dataclass(eq=False)
class BsshProject(Resource):
    kind: ClassVar[str] = "bssh.project"
    id: str
    name: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def field_view(self) -> dict[str, Any]:
        return self.raw or {"Id": self.id, "Name": self.name}

    def ref(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(eq=False)
class BsshDataset(Resource):
    kind: ClassVar[str] = "bssh.dataset"
    id: str
    name: str
    project_id: str
    date_created: datetime | None
    is_archived: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_deleted(self) -> bool:
        """In the BaseSpace trash (``IsDeleted``): gone, for orch."""
        return bool(self.raw.get("IsDeleted"))

    def field_view(self) -> dict[str, Any]:
        view = dict(self.raw)
        view.update(Id=self.id, Name=self.name, IsArchived=self.is_archived)
        return view

    def ref(self) -> dict[str, Any]:
        from orch.timeutil import format_ts

        return {"kind": self.kind, "id": self.id, "project_id": self.project_id, "name": self.name,
                "is_archived": self.is_archived, "date_created": format_ts(self.date_created)}


@dataclass(eq=False)
class BsshRun(Resource):
    kind: ClassVar[str] = "bssh.run"
    id: str
    name: str
    experiment_name: str
    date_created: datetime | None
    status: str
    is_archived: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_deleted(self) -> bool:
        """In the BaseSpace trash (``IsDeleted``): gone, for orch."""
        return bool(self.raw.get("IsDeleted"))

    def field_view(self) -> dict[str, Any]:
        view = dict(self.raw)
        view.update(Id=self.id, Name=self.name, Status=self.status, IsArchived=self.is_archived)
        return view

    def ref(self) -> dict[str, Any]:
        from orch.timeutil import format_ts

        return {"kind": self.kind, "id": self.id, "name": self.name, "status": self.status,
                "is_archived": self.is_archived, "date_created": format_ts(self.date_created)}
