"""The download manifest: typed in the engine, a plain mapping only in the plan file's ``params``.

``Manifest`` (the planner step) builds a ``ManifestPlan``; the plan stores ``to_params()``; the
manifest executor reads it back with ``from_params`` and writes ``render_manifest`` bytes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Mapping

MANIFEST_COLUMNS = ("file_name", "file_path", "data_id", "project_id")


@dataclass(frozen=True)
class ManifestRow:
    file_name: str
    file_path: str
    data_id: str

    def to_dict(self) -> dict[str, str]:
        return {"file_name": self.file_name, "file_path": self.file_path, "data_id": self.data_id}


@dataclass(frozen=True)
class ManifestPlan:
    to_project: str  # name
    to_project_id: str
    folder: str  # starts and ends with /
    name: str
    columns: tuple[str, ...] = MANIFEST_COLUMNS
    entries: tuple[ManifestRow, ...] = ()

    @property
    def path(self) -> str:
        return self.folder + self.name

    @property
    def rows(self) -> int:
        return len(self.entries)

    def to_params(self) -> dict[str, Any]:
        """The plan's ``params`` (contracts section 2 keeps them a JSON object)."""
        return {"to_project": self.to_project, "to_project_id": self.to_project_id, "path": self.path,
                "folder": self.folder, "name": self.name, "rows": self.rows, "columns": list(self.columns),
                "entries": [e.to_dict() for e in self.entries]}

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "ManifestPlan":
        path = str(p.get("path") or "")
        folder = str(p.get("folder") or path.rsplit("/", 1)[0] + "/")
        name = str(p.get("name") or path.rsplit("/", 1)[-1])
        entries = tuple(ManifestRow(str(e.get("file_name", "")), str(e.get("file_path", "")), str(e.get("data_id", "")))
                        for e in p.get("entries") or [])
        return cls(to_project=str(p.get("to_project") or ""), to_project_id=str(p.get("to_project_id") or ""),
                   folder=folder, name=name, columns=tuple(p.get("columns") or MANIFEST_COLUMNS), entries=entries)


def render_manifest(plan: ManifestPlan | Mapping[str, Any]) -> bytes:
    """The manifest CSV bytes (csv module: quoting of odd names), rows sorted by file_path."""
    m = plan if isinstance(plan, ManifestPlan) else ManifestPlan.from_params(plan)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(m.columns)
    for e in sorted(m.entries, key=lambda e: e.file_path):
        row = {**e.to_dict(), "project_id": m.to_project_id}
        writer.writerow([row.get(c, "") for c in m.columns])
    return buf.getvalue().encode("utf-8")
