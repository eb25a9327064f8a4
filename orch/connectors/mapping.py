"""API JSON -> typed inventory objects (orch/inventory.py).

Tolerant of missing optional fields; timestamps parsed to aware UTC; analysis statuses
normalised to the V3 spelling. A timestamp that does not parse becomes None (and is
logged), so an age filter on it fails closed rather than guessing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from orch.inventory import (BsshDataset, BsshProject, BsshRun, IcaAnalysis, IcaData, IcaOutput, IcaProject,
                            normalise_analysis_status)
from orch.timeutil import parse_ts

log = logging.getLogger(__name__)

# V3 spelling (orch's) -> V4 spelling (the analysis:search body takes V4 names).
V3_TO_V4_STATUS = {"INPROGRESS": "IN_PROGRESS", "FAILEDFINAL": "FAILED_FINAL", "AWAITINGINPUT": "AWAITING_INPUT"}


def _ts(value: Any, what: str) -> datetime | None:
    try:
        return parse_ts(value)
    except (TypeError, ValueError):
        log.warning("unparseable timestamp in %s: %r", what, value)
        return None


def ica_project(j: dict[str, Any]) -> IcaProject:
    return IcaProject(id=str(j.get("id", "")), name=str(j.get("name", "")), raw=j)


def ica_analysis(j: dict[str, Any], project_id: str) -> IcaAnalysis:
    pipeline = j.get("pipeline") or {}
    return IcaAnalysis(
        id=str(j.get("id", "")),
        project_id=project_id,
        reference=str(j.get("reference") or ""),
        user_reference=str(j.get("userReference") or ""),
        pipeline_code=str(pipeline.get("code") or ""),
        status=normalise_analysis_status(str(j.get("status") or "")),
        time_created=_ts(j.get("timeCreated"), "analysis.timeCreated"),
        start_date=_ts(j.get("startDate"), "analysis.startDate"),
        end_date=_ts(j.get("endDate"), "analysis.endDate"),
        raw=j,
    )


def ica_data(j: dict[str, Any]) -> IcaData:
    """A ``ProjectData`` object: ``{data: {id, details: {...}}, projectId}``."""
    data = j.get("data") or {}
    d = data.get("details") or {}
    project_id = str(j.get("projectId") or "")
    size = d.get("fileSizeInBytes")
    return IcaData(
        id=str(data.get("id", "")),
        project_id=project_id,
        owning_project_id=str(d.get("owningProjectId") or project_id),
        name=str(d.get("name") or ""),
        path=str(d.get("path") or ""),
        data_type=str(d.get("dataType") or ("FOLDER" if str(data.get("id", "")).startswith("fol.") else "FILE")),
        status=str(d.get("status") or ""),
        time_created=_ts(d.get("timeCreated"), "data.timeCreated"),
        time_modified=_ts(d.get("timeModified"), "data.timeModified"),
        size=size if isinstance(size, int) else None,
        raw=j,
    )


def ica_outputs(j: dict[str, Any]) -> list[IcaOutput]:
    """``{items: [{code, data: [{dataId, name, dataType}]}]}`` flattened (top-level data only)."""
    out: list[IcaOutput] = []
    for item in (j or {}).get("items") or []:
        for d in item.get("data") or []:
            out.append(IcaOutput(code=str(item.get("code") or ""), data_id=str(d.get("dataId") or ""),
                                 name=str(d.get("name") or ""), data_type=str(d.get("dataType") or "")))
    return out


def bssh_project(j: dict[str, Any]) -> BsshProject:
    return BsshProject(id=str(j.get("Id", "")), name=str(j.get("Name") or ""), raw=j)


def bssh_dataset(j: dict[str, Any], project_id: str | None = None) -> BsshDataset:
    project = j.get("Project") or {}
    return BsshDataset(
        id=str(j.get("Id", "")),
        name=str(j.get("Name") or ""),
        project_id=str(project_id or project.get("Id") or ""),
        date_created=_ts(j.get("DateCreated"), "dataset.DateCreated"),
        is_archived=bool(j.get("IsArchived")),
        raw=j,
    )


def bssh_run(j: dict[str, Any]) -> BsshRun:
    return BsshRun(
        id=str(j.get("Id", "")),
        name=str(j.get("Name") or ""),
        experiment_name=str(j.get("ExperimentName") or ""),
        date_created=_ts(j.get("DateCreated"), "run.DateCreated"),
        status=str(j.get("Status") or ""),
        is_archived=bool(j.get("IsArchived")),
        raw=j,
    )
