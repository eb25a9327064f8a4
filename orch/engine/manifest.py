"""The download manifest's bytes: written by the manifest executor from the plan's params."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

MANIFEST_COLUMNS = ("file_name", "file_path", "data_id", "project_id")


def render_manifest(params: Mapping[str, Any]) -> bytes:
    """The manifest CSV bytes (csv module: quoting of odd names), rows sorted by file_path."""
    columns = list(params.get("columns") or MANIFEST_COLUMNS)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for e in sorted(params.get("entries") or [], key=lambda e: e["file_path"]):
        row = {**e, "project_id": params.get("to_project_id", "")}
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue().encode("utf-8")
