"""ICA project data routes of the sandbox: listing, get/PUT, links, lifecycle, files, credentials, URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator

from werkzeug.wrappers import Response

from orch.sandbox.state import DATA_STATUSES, DATA_TAG_KINDS, DataItem, IcaProject, StateError, data_id_for
from orch.sandbox.web import V3, V4, Ctx, HttpError, json_response, ts
from orch.timeutil import parse_ts
from orch.sandbox.ica_common import (
    OFFSET_CAP,
    _data,
    _owned,
    _project,
    _sort_spec,
    _sorted,
    _token,
    _untoken,
    _wants_v4,
    _with_state,
    data_json,
    format_code,
)
from orch.sandbox.ica_projects import _put_media, _put_tags


# ------------------------------------------------------------------------------- data list
_DATA_SORT = {
    "timeCreated": lambda d: d.time_created, "timeModified": lambda d: d.time_modified, "name": lambda d: d.name,
    "path": lambda d: d.path, "fileSizeInBytes": lambda d: d.size, "status": lambda d: d.status,
    "format": lambda d: format_code(d) or "", "dataType": lambda d: d.is_folder,
    "willBeArchivedAt": lambda d: None, "willBeDeletedAt": lambda d: None,
}


def _date_arg(ctx: Ctx, name: str) -> datetime | None:
    raw = ctx.arg(name)
    if not raw:
        return None
    try:
        return parse_ts(raw)
    except ValueError:
        raise HttpError(400, f"{name}: {raw!r} is not a date-time (yyyy-MM-ddTHH:mm:ssZ)") from None


def _enum_list(ctx: Ctx, name: str, allowed: Iterable[str]) -> set[str]:
    values = set(ctx.list_arg(name))
    bad = values - set(allowed)
    if bad:
        raise HttpError(400, f"{name}: {sorted(bad)[0]!r} is not one of {', '.join(allowed)}")
    return values


def _data_query(ctx: Ctx, project: IcaProject) -> tuple[Callable[[str | None], Iterator[DataItem]], Callable[[DataItem], bool]]:
    """(candidates(after_path) in index order, predicate) for the data list filters."""
    world = ctx.world
    paths = ctx.list_arg("filePath")
    path_mode = ctx.arg("filePathMatchMode") or "STARTS_WITH_CASE_INSENSITIVE"
    if path_mode not in ("STARTS_WITH_CASE_INSENSITIVE", "FULL_CASE_INSENSITIVE"):
        raise HttpError(400, f"filePathMatchMode: {path_mode!r} is not STARTS_WITH_CASE_INSENSITIVE or FULL_CASE_INSENSITIVE")
    names = ctx.list_arg("filename")
    name_mode = ctx.arg("filenameMatchMode") or "EXACT"
    if name_mode not in ("EXACT", "EXCLUDE", "FUZZY"):
        raise HttpError(400, f"filenameMatchMode: {name_mode!r} is not EXACT, EXCLUDE or FUZZY")
    parent = ctx.arg("parentFolderPath")
    parent_ids = ctx.list_arg("parentFolderId")
    if parent is not None and not (parent.startswith("/") and parent.endswith("/")):
        raise HttpError(400, f"parentFolderPath: {parent!r} must start and end with /")
    for pid in parent_ids:
        folder = world.data_by_id.get(pid)
        if folder is None or not folder.is_folder or not world.visible_in(folder, project):
            raise HttpError(404, f"parentFolderId: folder {pid} not found in project {project.id}")
        if parent is not None and parent != folder.path:
            raise HttpError(400, "give parentFolderPath or parentFolderId, not both")
        parent = folder.path
    dtype = ctx.arg("type")
    if dtype not in (None, "", "FILE", "FOLDER"):
        raise HttpError(400, f"type: {dtype!r} is not FILE or FOLDER")
    statuses = _enum_list(ctx, "status", DATA_STATUSES)
    ids = ctx.list_arg("id")
    owning = set(ctx.list_arg("owningProjectId"))
    formats = {f.upper() for f in ctx.list_arg("formatCode")}
    after, before = _date_arg(ctx, "creationDateAfter"), _date_arg(ctx, "creationDateBefore")
    low_paths = [p.lower() for p in paths]
    low_names = [n.lower() for n in names]

    def pred(d: DataItem) -> bool:
        if dtype and (dtype == "FOLDER") != d.is_folder:
            return False
        if statuses and d.status not in statuses:
            return False
        if low_paths:
            lp = d.path.lower()
            if path_mode == "FULL_CASE_INSENSITIVE":
                if lp not in low_paths:
                    return False
            elif not any(lp.startswith(p) for p in low_paths):
                return False
        if names:
            n = d.name
            if name_mode == "EXACT" and n not in names:
                return False
            if name_mode == "EXCLUDE" and n in names:
                return False
            if name_mode == "FUZZY" and not any(x in n.lower() for x in low_names):
                return False
        if owning and d.owner.id not in owning:
            return False
        if formats and (format_code(d) or "") not in formats:
            return False
        if after and d.time_created <= after:
            return False
        if before and d.time_created >= before:
            return False
        return True

    def candidates(after_path: str | None) -> Iterator[DataItem]:
        if ids:
            found = [world.data_by_id.get(i) for i in dict.fromkeys(ids)]
            found = sorted((d for d in found if d is not None and world.visible_in(d, project)),
                           key=lambda d: (d.path.lower(), d.path))
            for d in found:
                if after_path is None or (d.path.lower(), d.path) > (after_path.lower(), after_path):
                    if parent is None or d.parent_path == parent:
                        yield d
            return
        if parent is not None:
            yield from project.data.iter_children(parent, after_path)
            return
        if len(low_paths) == 1 and path_mode == "FULL_CASE_INSENSITIVE":
            yield from project.data.iter_equal_ci(paths[0], after_path)
            return
        prefix = ""
        if len(low_paths) == 1:
            prefix = low_paths[0]
        elif low_paths:  # several prefixes: their common prefix bounds the scan
            import os.path
            prefix = os.path.commonprefix(low_paths)
        yield from project.data.iter_from(after_path, prefix)

    return candidates, pred


def _list_data(ctx: Ctx, project: IcaProject, candidates, pred) -> dict[str, Any]:
    size = ctx.int_arg("pageSize", 1000, minimum=1)
    spec = _sort_spec(ctx, _DATA_SORT)
    if spec is not None or ctx.arg("pageOffset") not in (None, ""):
        offset = ctx.int_arg("pageOffset", 0, minimum=0, maximum=OFFSET_CAP)
        matched = [d for d in candidates(None) if pred(d)]
        if spec:
            matched = _sorted(matched, spec)
        page = matched[offset:offset + size]
        return {"items": [data_json(d, project.id) for d in page], "nextPageToken": "",
                "remainingRecords": None, "totalItemCount": len(matched)}
    after = _untoken(ctx.arg("pageToken"), "p") if ctx.arg("pageToken") else None
    page: list[DataItem] = []
    more = False
    for d in candidates(after):
        if pred(d):
            if len(page) == size:
                more = True
                break
            page.append(d)
    return {"items": [data_json(d, project.id) for d in page],
            "nextPageToken": _token("p", page[-1].path) if more else None,
            "remainingRecords": None if more else 0, "totalItemCount": None}


def list_data(ctx: Ctx, projectId: str) -> Response:
    project = _project(ctx, projectId)
    candidates, pred = _data_query(ctx, project)
    return json_response(_list_data(ctx, project, candidates, pred), content_type=V3)


def data_children(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    folder = _data(ctx, project, dataId)
    if not folder.is_folder:
        raise HttpError(400, f"data {dataId} is a file; only folders have children")

    def candidates(after):
        return project.data.iter_children(folder.path, after)

    body = _list_data(ctx, project, candidates, lambda d: True)
    return json_response(body, content_type=V4 if _wants_v4(ctx) else V3)


def get_data(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    return json_response(data_json(_data(ctx, project, dataId), project.id), content_type=V3)


def update_data(ctx: Ctx, projectId: str, dataId: str) -> Response:
    """PUT a ProjectData: ``data.details.tags`` is applied (files and folders, from any project the
    data is visible in); willBeArchivedAt, willBeDeletedAt and format are not emulated (ignored)."""
    project = _project(ctx, projectId)
    item = _data(ctx, project, dataId)
    _put_media(ctx, (V3, "application/json"))
    body = ctx.json_body()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise HttpError(400, "data: the body must be a ProjectData {data: {id, details}, projectId}")
    if data.get("id") not in (None, dataId):
        raise HttpError(400, f"data.id: {data.get('id')!r} is not the data {dataId} of the URL")
    details = data.get("details")
    if details is not None and not isinstance(details, dict):
        raise HttpError(400, "data.details: must be an object")
    if item.status == "DELETING":
        raise HttpError(400, f"data {dataId} is DELETING; it can no longer be updated")
    if details is not None and "tags" in details:  # a body without tags keeps them
        tags = _put_tags(details["tags"], DATA_TAG_KINDS, "data.details.")
        if tags != item.tags:
            item.tags, item.time_modified = tags, ctx.now
    return json_response(data_json(item, project.id), content_type=V3)


# ------------------------------------------------------------------------------- data actions
@_with_state
def link_data(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    item = ctx.world.data_by_id.get(dataId)
    if item is None:
        raise HttpError(404, f"data {dataId} not found")
    if ctx.world.visible_in(item, project):
        raise HttpError(409, f"data {dataId} is already in project {project.id}")
    try:
        ctx.world.link(item, project)
    except StateError as exc:
        raise HttpError(exc.status, exc.message) from None
    return json_response(data_json(item, project.id), 201, V3)


@_with_state
def unlink_data(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    ctx.world.unlink(_data(ctx, project, dataId), project)
    return Response(status=204)


def _transition(op: str):
    @_with_state
    def handler(ctx: Ctx, projectId: str, dataId: str) -> Response:
        project = _project(ctx, projectId)
        item = _data(ctx, project, dataId)
        _owned(ctx, project, item, op)
        ctx.world.start_transition(item, op, ctx.now)
        return Response(status=204)

    handler.__name__ = f"{op}_data"
    return handler


def _folder_path(ctx: Ctx, project: IcaProject, body: dict) -> str:
    if body.get("folderId"):
        folder = ctx.world.data_by_id.get(body["folderId"])
        if folder is None or not folder.is_folder or folder.owner is not project:
            raise HttpError(404, f"folderId: folder {body['folderId']} not found in project {project.id}")
        return folder.path
    path = body.get("folderPath") or "/"
    if not isinstance(path, str) or not path.startswith("/") or not path.endswith("/") or "//" in path:
        raise HttpError(400, f"folderPath: {path!r} must start and end with /")
    return path


def _create_file(ctx: Ctx, project: IcaProject, body: Any) -> DataItem:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise HttpError(400, "name: a file name is required")
    name = body["name"]
    if "/" in name:
        raise HttpError(400, f"name: {name!r} must not contain /")
    path = _folder_path(ctx, project, body) + name
    if project.data.get(path) is not None:
        raise HttpError(409, f"a file already exists at {path} in project {project.id}", "Conflict")
    world = ctx.world
    world.ensure_folders(project, path, ctx.now)
    did = data_id_for(project.id, path)
    n = 0
    while did in world.data_by_id:  # a path reused after deletion gets a fresh id
        n += 1
        did = data_id_for(project.id, f"{path}#{n}")
    item = DataItem(id=did, owner=project, path=path, status="PARTIAL", time_created=ctx.now,
                    time_modified=ctx.now, size=0, format_code=body.get("formatCode") or None)
    world.add_data(item)
    return item


def create_file(ctx: Ctx, projectId: str) -> Response:
    project = _project(ctx, projectId)
    item = _create_file(ctx, project, ctx.json_body())
    return json_response(data_json(item, project.id), 201, V3)


def create_folder(ctx: Ctx, projectId: str) -> Response:
    """``data:createFolder``: body ``{name, folderId? | folderPath?}``; 201 ProjectData (parents implied)."""
    project = _project(ctx, projectId)
    body = ctx.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise HttpError(400, "name: a folder name is required")
    if "/" in body["name"]:
        raise HttpError(400, f"name: {body['name']!r} must not contain /")
    path = _folder_path(ctx, project, body) + body["name"] + "/"
    if project.data.get(path) is not None:
        raise HttpError(409, f"a folder already exists at {path} in project {project.id}", "Conflict")
    ctx.world.ensure_folders(project, path + "x", ctx.now)  # the folder and its parents
    return json_response(data_json(project.data.get(path), project.id), 201, V3)


def create_file_with_upload_url(ctx: Ctx, projectId: str) -> Response:
    """``data:createFileWithUploadUrl``: createFile, then ``{data, projectId, uploadUrl}``."""
    project = _project(ctx, projectId)
    item = _create_file(ctx, project, ctx.json_body())
    out = data_json(item, project.id)
    out["uploadUrl"] = f"{ctx.sandbox.base_url}/_sandbox/files/{item.id}?token={ctx.sandbox.file_token(item.id, 'put')}"
    return json_response(out, 201, V3)


def _temp_credentials(ctx: Ctx, item: DataItem, fmt: str | None, read_only: bool) -> dict[str, Any]:
    s3 = ctx.sandbox.s3
    key = s3.object_key(item)
    if not read_only:
        ctx.sandbox.expect_upload(item, key)
    elif item.content is not None:
        s3.put(key, item.content)
    expires = ts(ctx.now + timedelta(hours=36))
    access, secret, session = s3.credentials()
    if fmt == "RCLONE":
        return {"rcloneTempCredentials": {
            "config": {"type": "s3", "provider": "AWS", "env_auth": "false", "access_key_id": access,
                       "secret_access_key": secret, "session_token": session, "region": s3.region,
                       "endpoint": s3.endpoint_url, "acl": "private", "server_side_encryption": "AES256"},
            "filePathPrefix": f"{s3.bucket}/{key}", "storageType": "AWS", "expirationTime": expires,
            "uploadSessionId": None}}
    if fmt not in (None, ""):
        raise HttpError(400, f"credentialsFormat: {fmt!r} is not RCLONE")
    return {"awsTempCredentials": {"accessKey": access, "secretKey": secret, "sessionToken": session,
                                   "region": s3.region, "bucket": s3.bucket, "objectPrefix": key,
                                   **_sse(ctx, item)}}


def _sse(ctx: Ctx, item: DataItem) -> dict[str, Any]:
    """SSE-S3 by default; a ``kms`` project's own KMS key (created in moto when the sandbox starts)."""
    if item.owner.kms:
        return {"serverSideEncryptionAlgorithm": "AWS:KMS", "serverSideEncryptionKey": ctx.sandbox.kms_key(item.owner)}
    return {"serverSideEncryptionAlgorithm": "AES256", "serverSideEncryptionKey": None}


def _cred_opts(body: Any) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if not isinstance(body, dict):
        raise HttpError(400, "temporaryCredentials must be an object")
    return body.get("credentialsFormat"), bool(body.get("readOnlyCredentials"))


def create_file_with_credentials(ctx: Ctx, projectId: str) -> Response:
    project = _project(ctx, projectId)
    body = ctx.json_body()
    fmt, read_only = _cred_opts(body.get("temporaryCredentials") if isinstance(body, dict) else None)
    if fmt not in (None, "", "RCLONE"):
        raise HttpError(400, f"credentialsFormat: {fmt!r} is not RCLONE")
    item = _create_file(ctx, project, body)
    creds = _temp_credentials(ctx, item, fmt, read_only)
    out = data_json(item, project.id)
    out["tempCredentials"] = creds
    return json_response(out, 201, V3)


def create_credentials(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    item = _data(ctx, project, dataId)
    fmt, read_only = _cred_opts(ctx.json_body() or None)
    if not read_only:
        _owned(ctx, project, item, "uploading")
    if not read_only and not item.is_folder and item.status != "PARTIAL":
        raise HttpError(400, f"data {dataId} is {item.status}; only PARTIAL files can be uploaded to")
    return json_response(_temp_credentials(ctx, item, fmt, read_only), content_type=V3)


def create_download_url(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    item = _data(ctx, project, dataId)
    if item.is_folder:
        raise HttpError(400, f"data {dataId} is a folder; only files can be downloaded")
    if item.status != "AVAILABLE":
        raise HttpError(400, f"data {dataId} is {item.status}; only AVAILABLE files can be downloaded")
    url = f"{ctx.sandbox.base_url}/_sandbox/files/{item.id}?token={ctx.sandbox.file_token(item.id, 'get')}"
    return json_response({"url": url, "expiresAt": ts(ctx.now + timedelta(minutes=15))}, content_type=V3)


def create_upload_url(ctx: Ctx, projectId: str, dataId: str) -> Response:
    project = _project(ctx, projectId)
    item = _data(ctx, project, dataId)
    _owned(ctx, project, item, "uploading")
    if item.is_folder or item.status != "PARTIAL":
        raise HttpError(400, f"data {dataId} is not a PARTIAL file; upload URLs are for new or partial files")
    url = f"{ctx.sandbox.base_url}/_sandbox/files/{item.id}?token={ctx.sandbox.file_token(item.id, 'put')}"
    return json_response({"url": url}, content_type=V3)


