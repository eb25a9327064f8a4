"""BaseSpace Sequence Hub routes of the sandbox (under ``/basespace``).

v2 lists answer ``{Items, Paging}``; the v1pre3 project list answers its ``Response``
envelope. Query parameter names are case-insensitive, as on BaseSpace. Errors are
``V2Error`` bodies (v1pre3 routes: ``ResponseStatus``).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from werkzeug.wrappers import Response

from orch.sandbox.state import BsProject, Dataset, Run, StateError, TrashItem
from orch.sandbox.web import Ctx, HttpError, Route, json_response

USER = {"Id": "9000001", "Href": "v2/users/9000001", "Name": "Sandbox User", "DateCreated": "2020-01-01T00:00:00.000Z"}
MAX_LIMIT = 1024
MAX_ARCHIVE_IDS = 250
RUN_STATUSES = ("New", "Ready", "Running", "Paused", "Stopped", "Uploading", "PendingAnalysis", "Analyzing",
                "Complete", "Failed", "NeedsAttention")


def v2_error(status: int, message: str, code: str | None = None) -> Response:
    codes = {400: "BASESPACE.BAD_REQUEST", 401: "BASESPACE.AUTHENTICATION.UNAUTHORIZED",
             403: "BASESPACE.AUTHORIZATION.FORBIDDEN", 404: "BASESPACE.NOT_FOUND"}
    body = {"ErrorCode": code or codes.get(status, "BASESPACE.ERROR"), "ErrorMessage": message,
            "RequestId": None, "AdditionalData": None}
    return json_response(body, status)


def v1_error(status: int, message: str) -> Response:
    return json_response({"ResponseStatus": {"ErrorCode": str(status), "Message": message}}, status)


def _bs_ts(dt) -> str | None:
    """BaseSpace writes milliseconds (``2026-08-01T10:00:00.000Z``)."""
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


# ------------------------------------------------------------------------------- bodies
def project_json(p: BsProject) -> dict[str, Any]:
    size = sum(d.TotalSize for d in p.datasets)
    return {"Id": p.Id, "Name": p.Name, "Description": p.Description, "DateCreated": _bs_ts(p.DateCreated),
            "DateModified": _bs_ts(p.DateCreated), "UserOwnedBy": USER, "HasCollaborators": False,
            "IsDeleted": False, "TotalSize": size, "Href": f"v1pre3/projects/{p.Id}",
            "Permissions": {"IsOwner": True, "Browse": True, "Read": True, "Write": True, "Create": True,
                            "Download": True, "Own": True}, "DataSharingEnabled": False}


def dataset_json(d: Dataset) -> dict[str, Any]:
    p = d.project
    return {
        "Id": d.Id, "Name": d.Name, "Href": f"v2/datasets/{d.Id}", "HrefFiles": f"v2/datasets/{d.Id}/files",
        "DateCreated": _bs_ts(d.DateCreated), "DateModified": _bs_ts(d.DateModified),
        "AppSession": {"Id": "1" + d.Id[3:12].translate(str.maketrans("abcdef", "123456")), "Name": f"BCL Convert {p.Name}",
                       "ExecutionStatus": "Complete", "QcStatus": "QcPassed", "DateCreated": _bs_ts(d.DateCreated)},
        "Project": {"Id": p.Id, "Name": p.Name, "Href": f"v2/projects/{p.Id}", "UserOwnedBy": {"Id": USER["Id"]}},
        "TotalSize": d.TotalSize, "IsDeleted": False, "IsArchived": d.IsArchived,
        "IsFileDataDeleted": d.IsFileDataDeleted,
        "UserOwnedBy": USER,
        "DatasetType": {"Id": d.DatasetType, "Name": d.DatasetType, "ConformsToIds": ["common.files"]},
        "Properties": {"Items": [], "DisplayedCount": 0, "TotalCount": 0},
        "QcStatus": d.QcStatus, "UploadStatus": "Complete", "ValidationStatus": "Valid",
        "V1pre3Id": d.Id.replace("ds.", "")[:8], "OriginDataset": None,
    }


def run_json(r: Run) -> dict[str, Any]:
    parts = r.Name.split("_")
    instrument = parts[1] if len(parts) > 1 else "SANDBOX"
    flowcell = parts[3][1:] if len(parts) > 3 else ""
    return {
        "Id": r.Id, "Name": r.Name, "ExperimentName": r.ExperimentName, "DateCreated": _bs_ts(r.DateCreated),
        "DateModified": _bs_ts(r.DateModified), "Status": r.Status, "UserOwnedBy": USER,
        "Instrument": {"Id": 1, "Name": instrument, "Number": 1, "Type": "NovaSeqX", "PlatformName": "NovaSeqX"},
        "InstrumentRunStatus": "Completed" if r.Status == "Complete" else r.Status,
        "DateInstrumentStarted": _bs_ts(r.DateCreated), "DateInstrumentCompleted": _bs_ts(r.DateCreated),
        "FlowcellBarcode": flowcell, "LaneAndQcStatus": "QcPassed", "Workflow": "GenerateFastQ",
        "SampleSheetName": "SampleSheet.csv", "TotalSize": r.TotalSize, "UploadStatus": "Completed",
        "DateUploadStarted": _bs_ts(r.DateCreated), "DateUploadCompleted": _bs_ts(r.DateCreated),
        "IsDeleted": False, "IsFileDataDeleted": r.IsFileDataDeleted, "IsArchived": r.IsArchived,
        "IsZipping": False,
        "IsZipped": False, "Href": f"v2/runs/{r.Id}", "HrefFiles": f"v2/runs/{r.Id}/files", "HasFilesInIca": False,
        "Properties": {"Items": [], "DisplayedCount": 0, "TotalCount": 0}, "V1Pre3Id": r.Id,
    }


def trash_json(t: TrashItem) -> dict[str, Any]:
    return {"Id": t.Id, "Name": t.Name, "DateDeleted": _bs_ts(t.DateDeleted), "TotalSize": t.TotalSize,
            "DeletedRun": run_json(t.run) if t.run else None,
            "DeletedDataset": dataset_json(t.dataset) if t.dataset else None,
            "DeletedProject": None, "DeletedSample": None, "DeletedAppSession": None, "TrashStatus": "Trashed",
            "HrefPostRestoreFromTrash": f"v2/trash/{t.Id}/restorefromtrash"}


# ------------------------------------------------------------------------------- paging
def _paging(ctx: Ctx, items: list, sort_keys: dict[str, Callable], default_sort: str) -> tuple[list, dict]:
    offset = ctx.int_arg("Offset", 0, minimum=0, ci=True)
    limit = ctx.int_arg("Limit", 10, minimum=1, maximum=MAX_LIMIT, ci=True)
    sort_by = ctx.arg_ci("SortBy") or default_sort
    keys_ci = {k.lower(): k for k in sort_keys}
    if sort_by.lower() not in keys_ci:
        raise HttpError(400, f"SortBy: {sort_by!r} is not one of {', '.join(sort_keys)}")
    sort_by = keys_ci[sort_by.lower()]
    sort_dir = ctx.arg_ci("SortDir") or "Asc"
    if sort_dir.lower() not in ("asc", "desc"):
        raise HttpError(400, f"SortDir: {sort_dir!r} is not Asc or Desc")
    sort_dir = sort_dir.capitalize()
    keyfn = sort_keys[sort_by]
    ordered = sorted(items, key=lambda x: (keyfn(x), _id_key(x)), reverse=sort_dir == "Desc")
    page = ordered[offset:offset + limit]
    paging = {"DisplayedCount": len(page), "TotalCount": len(ordered), "Offset": offset, "Limit": limit,
              "SortDir": sort_dir, "SortBy": sort_by}
    return page, paging


def _id_key(x) -> str:
    return str(x.Id)


def _bool_arg(ctx: Ctx, name: str) -> bool | None:
    raw = ctx.arg_ci(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise HttpError(400, f"{name}: {raw!r} is not True or False")


# ------------------------------------------------------------------------------- handlers
def _v1(fn):
    fn.v1 = True
    return fn


@_v1
def list_projects(ctx: Ctx) -> Response:
    name = ctx.arg_ci("Name")
    items = [p for p in ctx.world.bs_projects if name is None or p.Name == name]
    page, paging = _paging(ctx, items, {"Id": lambda p: int(p.Id) if p.Id.isdigit() else 0, "Name": lambda p: p.Name,
                                        "DateCreated": lambda p: p.DateCreated,
                                        "DateModified": lambda p: p.DateCreated}, "Id")
    return json_response({"Response": {"Items": [project_json(p) for p in page], **paging},
                          "ResponseStatus": {}, "Notifications": []})


def _project(ctx: Ctx, project_id: str) -> BsProject:
    for p in ctx.world.bs_projects:
        if p.Id == project_id:
            return p
    raise HttpError(404, f"project {project_id} not found")


def get_project(ctx: Ctx, id: str) -> Response:
    return json_response(project_json(_project(ctx, id)))


_DATASET_SORT = {"Name": lambda d: d.Name, "DateCreated": lambda d: d.DateCreated,
                 "DateModified": lambda d: d.DateModified, "AppSessionName": lambda d: d.project.Name,
                 "ApplicationName": lambda d: "", "ProjectName": lambda d: d.project.Name,
                 "Size": lambda d: d.TotalSize, "QcStatus": lambda d: d.QcStatus}


def _datasets(ctx: Ctx, datasets: list[Dataset]) -> Response:
    archived = _bool_arg(ctx, "isarchived")
    types = set(ctx.list_arg("datasettypes", split_commas=True, ci=True))
    items = [d for d in datasets if (archived is None or d.IsArchived == archived)
             and (not types or d.DatasetType in types)]
    page, paging = _paging(ctx, items, _DATASET_SORT, "DateCreated")
    return json_response({"Items": [dataset_json(d) for d in page], "Paging": paging})


def project_datasets(ctx: Ctx, id: str) -> Response:
    return _datasets(ctx, list(_project(ctx, id).datasets))


def list_datasets(ctx: Ctx) -> Response:
    project_ids = set(ctx.list_arg("projectid", split_commas=True, ci=True))
    datasets = [d for p in ctx.world.bs_projects if not project_ids or p.Id in project_ids for d in p.datasets]
    return _datasets(ctx, datasets)


def _dataset(ctx: Ctx, id: str) -> Dataset:
    ds = ctx.world.datasets_by_id.get(id)
    if ds is None:
        raise HttpError(404, f"dataset {id} not found")
    return ds


def get_dataset(ctx: Ctx, id: str) -> Response:
    return json_response(dataset_json(_dataset(ctx, id)))


_RUN_SORT = {"Id": lambda r: int(r.Id) if r.Id.isdigit() else 0, "DateCreated": lambda r: r.DateCreated,
             "ExperimentName": lambda r: r.ExperimentName, "FlowcellBarcode": lambda r: run_json(r)["FlowcellBarcode"],
             "LaneAndQcStatus": lambda r: "", "PlatformName": lambda r: "", "Status": lambda r: r.Status,
             "InstrumentName": lambda r: run_json(r)["Instrument"]["Name"], "TotalSize": lambda r: r.TotalSize}


def list_runs(ctx: Ctx) -> Response:
    statuses = ctx.list_arg("statuses", split_commas=True, ci=True)
    known = {s.lower(): s for s in RUN_STATUSES}
    bad = [s for s in statuses if s.lower() not in known]
    if bad:
        raise HttpError(400, f"statuses: {bad[0]!r} is not one of {', '.join(RUN_STATUSES)}")
    wanted = {known[s.lower()] for s in statuses}
    experiment = ctx.arg_ci("experimentname")
    items = [r for r in ctx.world.runs if (not wanted or r.Status in wanted)
             and (experiment is None or r.ExperimentName == experiment)]
    page, paging = _paging(ctx, items, _RUN_SORT, "DateCreated")
    return json_response({"Items": [run_json(r) for r in page], "Paging": paging})


def _run(ctx: Ctx, id: str) -> Run:
    run = ctx.world.runs_by_id.get(id)
    if run is None:
        raise HttpError(404, f"run {id} not found")
    return run


def get_run(ctx: Ctx, id: str) -> Response:
    return json_response(run_json(_run(ctx, id)))


def _bulk(restore: bool):
    def handler(ctx: Ctx) -> Response:
        body = ctx.json_body()
        if not isinstance(body, dict):
            raise HttpError(400, "the body must be {DatasetIds: [...], RunIds: [...]}")
        ds_ids, run_ids = body.get("DatasetIds") or [], body.get("RunIds") or []
        if not isinstance(ds_ids, list) or not isinstance(run_ids, list):
            raise HttpError(400, "DatasetIds and RunIds must be lists")
        if not ds_ids and not run_ids:
            raise HttpError(400, "give at least one of DatasetIds or RunIds")
        if len(ds_ids) + len(run_ids) > MAX_ARCHIVE_IDS:
            raise HttpError(400, f"at most {MAX_ARCHIVE_IDS} items per request, got {len(ds_ids) + len(run_ids)}")
        objs: list[Dataset | Run] = [_dataset(ctx, str(i)) for i in ds_ids] + [_run(ctx, str(i)) for i in run_ids]
        for obj in objs:  # all or nothing (unverified): check every item before changing any
            _check_bulk(ctx, obj, restore)
        for obj in objs:
            try:
                ctx.world.bs_archive(obj, restore, ctx.now)
            except StateError as exc:
                raise HttpError(exc.status, exc.message) from None
        return Response(json.dumps("Restore requested" if restore else "Archive requested"), 200,
                        content_type="application/json")

    handler.__name__ = "restore" if restore else "archive"
    return handler


def _check_bulk(ctx: Ctx, obj: Dataset | Run, restore: bool) -> None:
    if why := ctx.world.bs_refusal(obj, restore):
        raise HttpError(400, why)


def _need_scope(ctx: Ctx, scope: str) -> None:
    if scope not in ctx.world.scopes:
        raise HttpError(403, f"the access token lacks the scope {scope!r}")


def delete_dataset(ctx: Ctx, id: str) -> Response:
    _need_scope(ctx, "MOVETOTRASH GLOBAL")
    item = ctx.world.move_to_trash(_dataset(ctx, id), ctx.now)
    return json_response(trash_json(item))


@_v1
def delete_run(ctx: Ctx, id: str) -> Response:
    """``DELETE /v1pre3/runs/{id}`` (public production code; not in the v2 swagger). The body's shape is
    unverified: the v1pre3 envelope around the trash item."""
    _need_scope(ctx, "MOVETOTRASH GLOBAL")
    item = ctx.world.move_to_trash(_run(ctx, id), ctx.now)
    return json_response({"Response": trash_json(item), "ResponseStatus": {}, "Notifications": []})


def list_trash(ctx: Ctx) -> Response:
    page, paging = _paging(ctx, list(ctx.world.trash), {"DateDeleted": lambda t: t.DateDeleted,
                                                         "TotalSize": lambda t: t.TotalSize}, "DateDeleted")
    return json_response({"Items": [trash_json(t) for t in page], "Paging": paging})


def empty_trash(ctx: Ctx) -> Response:
    _need_scope(ctx, "EMPTY TRASH")
    ctx.world.trash.clear()
    return Response(status=204)


@_v1
def token_current(ctx: Ctx) -> Response:
    return json_response({"Response": {"Id": "sandbox-token", "Scopes": list(ctx.world.scopes),
                                       "DateCreated": "2020-01-01T00:00:00.000Z", "User": USER,
                                       "Application": {"Id": "sandbox", "Name": "orch sandbox"}},
                          "ResponseStatus": {}, "Notifications": []})


def current_user(ctx: Ctx) -> Response:
    return json_response(USER)


ROUTES: list[Route] = [
    Route("GET", "/v2/users/current", current_user),
    Route("GET", "/v1pre3/users/current/projects", list_projects),
    Route("GET", "/v1pre3/oauthv2/token/current", token_current),
    Route("GET", "/v2/projects/<id>", get_project),
    Route("GET", "/v2/projects/<id>/datasets", project_datasets),
    Route("GET", "/v2/datasets", list_datasets),
    Route("GET", "/v2/datasets/<id>", get_dataset),
    Route("DELETE", "/v2/datasets/<id>", delete_dataset),
    Route("GET", "/v2/runs", list_runs),
    Route("GET", "/v2/runs/<id>", get_run),
    Route("DELETE", "/v1pre3/runs/<id>", delete_run),
    Route("POST", "/v2/archive", _bulk(False)),
    Route("POST", "/v2/restore", _bulk(True)),
    Route("GET", "/v2/trash", list_trash),
    Route("DELETE", "/v2/trash", empty_trash),
]


def authorized(ctx: Ctx) -> bool:
    token = ctx.world.access_token
    auth = ctx.request.headers.get("Authorization", "")
    got = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    got = got or ctx.request.headers.get("x-access-token") or ctx.arg_ci("access_token")
    import hmac

    return bool(got) and hmac.compare_digest(got, token)
