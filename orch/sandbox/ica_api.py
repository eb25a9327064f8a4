"""ICA v2 routes of the sandbox (under ``/ica/rest``), shaped per the public OpenAPI spec.

Responses carry every required field libica checks; errors are RFC 7807 Problems
(``application/problem+json``). See the issue note for what is knowingly left out.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator

from werkzeug.wrappers import Response

from orch.sandbox.state import (
    ANALYSIS_STATUSES,
    ANALYSIS_TAG_KINDS,
    DATA_STATUSES,
    DATA_TAG_KINDS,
    Analysis,
    DataItem,
    IcaProject,
    LinkBatch,
    StateError,
    Tags,
    data_id_for,
    stable_hex,
    stable_uuid,
    tags_json,
)
from orch.sandbox.web import V3, V4, Ctx, HttpError, Route, json_response, ts
from orch.timeutil import parse_ts

TENANT_ID = "2c2f6d4e-1f0a-4b7e-9d51-3a8d6e0f9b10"
TENANT_NAME = "sandbox-tenant"
OWNER_ID = "8a0e4f71-63b2-4d0e-a1c9-5f7b2e3d4c21"
REGION_ID = "c39b1feb-3e94-4440-805e-45e0c76462bf"
EPOCH = "2020-01-01T00:00:00Z"
_BASE = {"timeCreated": EPOCH, "timeModified": EPOCH, "ownerId": OWNER_ID, "tenantId": TENANT_ID}
REGION = {"id": REGION_ID, **_BASE, "code": "US", "cityName": "Portland",
          "country": {"id": "0ab1c2d3-0000-4000-8000-000000000001", **_BASE, "code": "US",
                      "name": "United States", "region": "US"}}
USER = {"id": OWNER_ID, **_BASE, "username": "sandbox", "email": "sandbox@example.org", "active": True,
        "tenantAdministrator": False, "emailVerified": True, "twoFactorAuthentication": False}
V4_STATUS = {"AWAITINGINPUT": "AWAITING_INPUT", "INPROGRESS": "IN_PROGRESS", "FAILEDFINAL": "FAILED_FINAL"}
FORMATS = ((".fastq.gz", "FASTQ"), (".fastq", "FASTQ"), (".fq.gz", "FASTQ"), (".bam", "BAM"), (".vcf.gz", "VCF"),
           (".vcf", "VCF"), (".csv", "CSV"), (".json", "JSON"), (".txt", "TXT"), (".html", "HTML"))
OFFSET_CAP = 200_000


# ------------------------------------------------------------------------------- bodies
def problem(status: int, detail: str, title: str | None = None) -> Response:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
              409: "Conflict", 415: "Unsupported Media Type", 500: "Internal Server Error"}
    body = {"type": "about:blank", "title": title or titles.get(status, "Error"), "status": status, "detail": detail,
            "parameters": {}, "timestamp": ts(datetime.now().astimezone())}
    return json_response(body, status, "application/problem+json")


def project_json(p: IcaProject) -> dict[str, Any]:
    return {"id": p.id, "timeCreated": ts(p.time_created), "timeModified": ts(p.time_created), "ownerId": OWNER_ID,
            "tenantId": TENANT_ID, "tenantName": TENANT_NAME, "urn": f"urn:ilmn:ica:project:{p.id}#{p.name}",
            "name": p.name, "active": True, **({"shortDescription": p.short_description} if p.short_description else {}),
            "region": REGION, "billingMode": "PROJECT", "dataSharingEnabled": p.data_sharing,
            "tags": {"technicalTags": [], "userTags": []}, "analysisPriority": "MEDIUM"}


def format_code(item: DataItem) -> str | None:
    if item.is_folder:
        return None
    if item.format_code:
        return item.format_code
    name = item.name.lower()
    return next((code for suffix, code in FORMATS if name.endswith(suffix)), "UNKNOWN")


@lru_cache(maxsize=256)
def format_json(code: str | None) -> dict[str, Any] | None:
    if code is None:
        return None
    return {"id": stable_uuid("format", code), **_BASE, "code": code, "description": code, "mimeType": "application/octet-stream"}


def data_json(item: DataItem, project_id: str) -> dict[str, Any]:
    owner = item.owner
    folder = item.is_folder
    details = {
        "timeCreated": ts(item.time_created), "timeModified": ts(item.time_modified), "creatorId": OWNER_ID,
        "tenantId": TENANT_ID, "tenantName": TENANT_NAME, "owningProjectId": owner.id,
        "owningProjectName": owner.name, "name": item.name, "path": item.path,
        "fileSizeInBytes": None if folder else (item.size or 0), "status": item.status,
        "tags": tags_json(item.tags, DATA_TAG_KINDS),
        "format": format_json(format_code(item)), "dataType": "FOLDER" if folder else "FILE",
        "objectETag": None if folder else f"\"{item.id[4:36]}\"", "storedForTheFirstTimeAt": ts(item.time_created),
        "region": REGION, "willBeArchivedAt": ts(item.will_archive_at), "willBeDeletedAt": ts(item.will_delete_at),
    }
    return {"data": {"id": item.id, "urn": f"urn:ilmn:ica:region:{REGION_ID}:data:{item.id}#{item.path}",
                     "details": details}, "projectId": project_id}


def analysis_json(a: Analysis, v4: bool) -> dict[str, Any]:
    storage = {"id": "6e1b6c8d-0000-4000-8000-00000000000a", "name": "Small"}
    pipeline = {"id": stable_uuid("pipeline", a.pipeline), "timeCreated": EPOCH, "timeModified": EPOCH,
                "code": a.pipeline, "urn": f"urn:ilmn:ica:pipeline:{stable_uuid('pipeline', a.pipeline)}#{a.pipeline}",
                "description": f"{a.pipeline} pipeline", "language": "NEXTFLOW", "languageVersion": None,
                "pipelineTags": {"technicalTags": []}, "analysisStorage": {**_BASE, **storage}}
    out: dict[str, Any] = {
        "id": a.id, "timeCreated": ts(a.time_created), "timeModified": ts(a.time_modified),
        "reference": a.reference, "userReference": a.user_reference, "pipeline": pipeline,
        "status": V4_STATUS.get(a.status, a.status) if v4 else a.status, "startDate": ts(a.start_date),
        "endDate": ts(a.end_date), "summary": "", "analysisStorage": {**_BASE, **storage},
        "analysisPriority": "MEDIUM", "tags": tags_json(a.tags, ANALYSIS_TAG_KINDS),
    }
    if v4:
        owner, tenant = {"id": OWNER_ID}, {"id": TENANT_ID, "name": TENANT_NAME}
        out.update(owner=owner, tenant=tenant)
        pipeline.update(owner=owner, tenant=tenant, status="RELEASED", statusAsString="RELEASED")
        for key in ("ownerId", "tenantId"):
            pipeline["analysisStorage"].pop(key, None)
            out["analysisStorage"].pop(key, None)
        pipeline["analysisStorage"] = storage
        out["analysisStorage"] = storage
    else:
        out.update(ownerId=OWNER_ID, tenantId=TENANT_ID, tenantName=TENANT_NAME)
        pipeline.update(ownerId=OWNER_ID, tenantId=TENANT_ID, status="RELEASED")
    return out


def job_json(batch: LinkBatch, project: IcaProject) -> dict[str, Any]:
    return {"id": batch.job_id, "status": batch.status, "additionalStatusInformation": None,
            "subjectType": "ProjectDataLinkingBatch", "subjectId": batch.id, "timeCreated": ts(batch.time_created),
            "timeStarted": ts(batch.time_created), "timeFinished": ts(batch.time_finished), "owner": USER}


# ------------------------------------------------------------------------------- paging
def _token(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _untoken(token: str, kind: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(kind + ":"):
        raise HttpError(400, "pageToken is not a token this list returned")
    return raw[len(kind) + 1:]


def _sort_spec(ctx: Ctx, allowed: dict[str, Callable[[Any], Any]]) -> list[tuple[Callable, bool]] | None:
    raw = ctx.arg("sort")
    if not raw:
        return None
    out = []
    for part in raw.split(","):
        words = part.strip().split()
        if not words:
            continue
        key = words[0]
        desc = key.startswith("-")
        key = key.lstrip("-")
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise HttpError(400, f"sort: {part.strip()!r} is not 'attribute [asc|desc]'")
        if len(words) == 2:
            desc = words[1].lower() == "desc"
        if key not in allowed:
            raise HttpError(400, f"sort: unknown attribute {key!r} (one of {', '.join(allowed)})")
        out.append((allowed[key], desc))
    return out or None


def _sorted(items: list, spec: list[tuple[Callable, bool]]) -> list:
    for keyfn, desc in reversed(spec):  # stable sorts, last key first
        items.sort(key=lambda x: (keyfn(x) is None, keyfn(x) if keyfn(x) is not None else 0), reverse=desc)
    return items


def paged(ctx: Ctx, items: Iterable, render: Callable[[Any], dict], sort_keys: dict[str, Callable]) -> dict:
    """Page a small in-memory list: offset mode when ``sort``/``pageOffset`` is given, else cursor mode."""
    size = ctx.int_arg("pageSize", 1000, minimum=1)
    spec = _sort_spec(ctx, sort_keys)
    items = list(items)
    if spec is not None or ctx.arg("pageOffset") not in (None, ""):
        if spec:
            items = _sorted(items, spec)
        offset = ctx.int_arg("pageOffset", 0, minimum=0, maximum=OFFSET_CAP)
        page = items[offset:offset + size]
        return {"items": [render(x) for x in page], "nextPageToken": "", "remainingRecords": None,
                "totalItemCount": len(items)}
    start = int(_untoken(ctx.arg("pageToken"), "o")) if ctx.arg("pageToken") else 0
    page = items[start:start + size]
    more = start + size < len(items)
    return {"items": [render(x) for x in page], "nextPageToken": _token("o", str(start + size)) if more else None,
            "remainingRecords": max(0, len(items) - start - size), "totalItemCount": None}


# ------------------------------------------------------------------------------- lookups
def _project(ctx: Ctx, project_id: str) -> IcaProject:
    project = ctx.world.projects_by_id.get(project_id)
    if project is None:
        raise HttpError(404, f"project {project_id} not found")
    return project


def _data(ctx: Ctx, project: IcaProject, data_id: str) -> DataItem:
    item = ctx.world.data_by_id.get(data_id)
    if item is None or not ctx.world.visible_in(item, project):
        raise HttpError(404, f"data {data_id} not found in project {project.id}")
    return item


def _owned(ctx: Ctx, project: IcaProject, item: DataItem, what: str) -> None:
    if item.owner is not project:
        raise HttpError(400, f"{what} needs the owning project {item.owner.id}; {item.id} is only linked into {project.id}")


def _analysis(project: IcaProject, analysis_id: str) -> Analysis:
    for a in project.analyses:
        if a.id == analysis_id:
            return a
    raise HttpError(404, f"analysis {analysis_id} not found in project {project.id}")


def _wants_v4(ctx: Ctx) -> bool:
    accept = ctx.request.headers.get("Accept", "")
    return "vnd.illumina.v4" in accept and "vnd.illumina.v3" not in accept


def _with_state(fn):
    """Translate ``StateError`` into ``HttpError``."""

    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StateError as exc:
            raise HttpError(exc.status, exc.message) from None

    wrapper.__name__ = fn.__name__
    return wrapper


# ------------------------------------------------------------------------------- projects
def list_projects(ctx: Ctx) -> Response:
    search = (ctx.arg("search") or "").lower()
    items = [p for p in ctx.world.projects
             if not search or search in p.name.lower() or search in p.short_description.lower()]
    body = paged(ctx, items, project_json, {"name": lambda p: p.name, "shortDescription": lambda p: p.short_description,
                                            "information": lambda p: ""})
    return json_response(body, content_type=V3)


def get_project(ctx: Ctx, projectId: str) -> Response:
    return json_response(project_json(_project(ctx, projectId)), content_type=V3)


# ------------------------------------------------------------------------------- analyses
_ANALYSIS_SORT = {"reference": lambda a: a.reference, "userReference": lambda a: a.user_reference,
                  "pipeline": lambda a: a.pipeline, "status": lambda a: a.status, "startDate": lambda a: a.start_date,
                  "endDate": lambda a: a.end_date, "summary": lambda a: ""}


def _norm_status(s: str) -> str:
    return s.replace("_", "").upper()


_TAG_ARGS = {"userTags": "usertag", "technicalTags": "technicaltag", "referenceTags": "referencetag"}


def _has_tags(a: Analysis, wanted: dict[str, set[str]]) -> bool:
    """Tag filters: for each kind given, the analysis carries at least one of the tags."""
    for kind, tags in wanted.items():
        if tags and not tags & set(a.tags.get(kind) if a.tags else ()):
            return False
    return True


def list_analyses(ctx: Ctx, projectId: str) -> Response:
    project = _project(ctx, projectId)
    ref, uref = ctx.arg("reference"), ctx.arg("userreference")
    statuses = {_norm_status(s) for s in ctx.list_arg("status")}
    bad = statuses - set(ANALYSIS_STATUSES)
    if bad:
        raise HttpError(400, f"status: unknown analysis status {sorted(bad)[0]}")
    wanted = {kind: set(ctx.list_arg(arg)) for kind, arg in _TAG_ARGS.items()}
    items = [a for a in project.analyses if (not ref or a.reference == ref) and (not uref or a.user_reference == uref)
             and (not statuses or a.status in statuses) and _has_tags(a, wanted)]
    return json_response(paged(ctx, items, lambda a: analysis_json(a, False), _ANALYSIS_SORT), content_type=V3)


def search_analyses(ctx: Ctx, projectId: str) -> Response:
    project = _project(ctx, projectId)
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be an AnalysisQueryParameters object")
    ref, uref = body.get("reference"), body.get("userReference")
    statuses = {_norm_status(s) for s in (body.get("status") or []) if s}
    pipelines = set(body.get("pipelineNames") or [])
    wanted = {kind: set(body.get(kind) or ()) for kind in ANALYSIS_TAG_KINDS}
    items = [a for a in project.analyses if (not ref or a.reference == ref) and (not uref or a.user_reference == uref)
             and (not statuses or a.status in statuses) and (not pipelines or a.pipeline in pipelines)
             and _has_tags(a, wanted)]
    return json_response(paged(ctx, items, lambda a: analysis_json(a, True), _ANALYSIS_SORT), content_type=V3)


def get_analysis(ctx: Ctx, projectId: str, analysisId: str) -> Response:
    a = _analysis(_project(ctx, projectId), analysisId)
    v4 = _wants_v4(ctx)
    return _with_etag(json_response(analysis_json(a, v4), content_type=V4 if v4 else V3), _analysis_etag(a))


# ------------------------------------------------------------------------------- tags (PUT)
def _analysis_etag(a: Analysis) -> str:
    return '"' + stable_hex("analysis", a.id, ts(a.time_modified) or "", repr(a.tags), n=24) + '"'


def _with_etag(response: Response, etag: str) -> Response:
    response.headers["ETag"] = etag
    return response


def _put_tags(tags: Any, kinds: tuple[str, ...], where: str) -> Tags | None:
    """The ``tags`` object of a PUT body. PUT semantics: a kind left out becomes empty; kinds the
    object does not have are ignored, like the fields the spec says cannot be changed."""
    if not isinstance(tags, dict):
        raise HttpError(400, f"{where}tags: must be an object")
    out: dict[str, list[str]] = {}
    for kind, values in tags.items():
        if kind not in kinds:
            continue  # a kind this object does not have (ignored, like the other read-only fields)
        if values is None:
            values = []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise HttpError(400, f"{where}tags.{kind}: must be a list of non-empty strings")
        out[kind] = values
    return Tags.of(out)


def _put_media(ctx: Ctx, allowed: tuple[str, ...]) -> str:
    """The request's media type (Content-Type without parameters); 415 when not one of ``allowed``."""
    media = (ctx.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if media not in allowed:
        raise HttpError(415, f"Content-Type {media or '(none)'} is not supported here; use one of {', '.join(allowed)}")
    return media


def update_analysis(ctx: Ctx, projectId: str, analysisId: str) -> Response:
    """PUT an analysis: only ``tags`` may change (per the spec); ``If-Match`` exposes conflicts (409)."""
    a = _analysis(_project(ctx, projectId), analysisId)
    _put_media(ctx, (V4, V3, "application/json"))
    if_match = ctx.request.headers.get("If-Match")
    if if_match and if_match != _analysis_etag(a):
        raise HttpError(409, f"analysis {analysisId} changed since the ETag {if_match} was read")
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be an Analysis object")
    if body.get("id") not in (None, analysisId):
        raise HttpError(400, f"id: {body.get('id')!r} is not the analysis {analysisId} of the URL")
    if "tags" in body:  # a body without tags keeps them
        tags = _put_tags(body["tags"], ANALYSIS_TAG_KINDS, "")
        if tags != a.tags:
            a.tags, a.time_modified = tags, ctx.now
    v4 = _wants_v4(ctx)  # the answer's version follows Accept, as on GET
    return _with_etag(json_response(analysis_json(a, v4), content_type=V4 if v4 else V3), _analysis_etag(a))


def analysis_outputs(ctx: Ctx, projectId: str, analysisId: str) -> Response:
    project = _project(ctx, projectId)
    a = _analysis(project, analysisId)
    data = []
    if a.output and a.output_id:  # the record outlives the folder, as on ICA
        data.append({"dataId": a.output_id, "name": a.output.rstrip("/").rsplit("/", 1)[-1], "dataType": "FOLDER",
                     "format": None, "mountPath": "out/", "children": []})
    return json_response({"items": [{"code": "Output", "projectId": project.id, "data": data}]}, content_type=V3)


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


# ------------------------------------------------------------------------------- linking batch
def create_link_batch(ctx: Ctx, projectId: str) -> Response:
    project = _project(ctx, projectId)
    body = ctx.json_body()
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) and isinstance(i.get("dataId"), str)
                                                           for i in items):
        raise HttpError(400, "items: a non-empty list of {dataId} is required")
    batch = ctx.world.create_link_batch(project, [i["dataId"] for i in items], ctx.now)
    return json_response({"id": batch.id, "job": job_json(batch, project)}, 201, V3)


def _batch(ctx: Ctx, project: IcaProject, batch_id: str) -> LinkBatch:
    batch = ctx.world.link_batches.get(batch_id)
    if batch is None or batch.project_id != project.id:
        raise HttpError(404, f"linking batch {batch_id} not found in project {project.id}")
    return batch


def get_link_batch(ctx: Ctx, projectId: str, batchId: str) -> Response:
    project = _project(ctx, projectId)
    batch = _batch(ctx, project, batchId)
    return json_response({"id": batch.id, "job": job_json(batch, project)}, content_type=V3)


def _batch_item_json(ctx: Ctx, batch: LinkBatch, it, project: IcaProject) -> dict:
    status = it.status if batch.status != "RUNNING" else "RUNNING"
    out = {"id": it.id, "request": {"dataId": it.data_id},
           "processing": {"status": status, "additionalStatusInformation": it.message}}
    item = ctx.world.data_by_id.get(it.data_id)
    if status in ("LINKED", "ALREADY_LINKED") and item is not None and ctx.world.visible_in(item, project):
        out["createdProjectData"] = data_json(item, project.id)
    return out


def link_batch_items(ctx: Ctx, projectId: str, batchId: str) -> Response:
    project = _project(ctx, projectId)
    batch = _batch(ctx, project, batchId)
    wanted = set(ctx.list_arg("status"))
    rendered = [_batch_item_json(ctx, batch, it, project) for it in batch.items]
    rendered = [r for r in rendered if not wanted or r["processing"]["status"] in wanted]
    return json_response(paged(ctx, rendered, lambda r: r, {}), content_type=V4 if _wants_v4(ctx) else V3)


def link_batch_item(ctx: Ctx, projectId: str, batchId: str, itemId: str) -> Response:
    project = _project(ctx, projectId)
    batch = _batch(ctx, project, batchId)
    for it in batch.items:
        if it.id == itemId:
            return json_response(_batch_item_json(ctx, batch, it, project), content_type=V3)
    raise HttpError(404, f"item {itemId} not found in linking batch {batchId}")


P = "/api/projects/<projectId>"
D = P + "/data/<dataId>"
ROUTES: list[Route] = [
    Route("GET", "/api/projects", list_projects),
    Route("GET", P, get_project),
    Route("GET", P + "/analyses", list_analyses),
    Route("POST", P + "/analysis:search", search_analyses),
    Route("GET", P + "/analyses/<analysisId>", get_analysis),
    Route("PUT", P + "/analyses/<analysisId>", update_analysis),
    Route("GET", P + "/analyses/<analysisId>/outputs", analysis_outputs),
    Route("GET", P + "/data", list_data),
    Route("POST", P + "/data:createFile", create_file),
    Route("POST", P + "/data:createFolder", create_folder),
    Route("POST", P + "/data:createFileWithUploadUrl", create_file_with_upload_url),
    Route("POST", P + "/data:createFileWithTemporaryCredentials", create_file_with_credentials),
    Route("GET", D, get_data),
    Route("PUT", D, update_data),
    Route("POST", D, link_data),
    Route("GET", D + "/children", data_children),
    Route("POST", D + ":unlink", unlink_data),
    Route("POST", D + ":archive", _transition("archive")),
    Route("POST", D + ":unarchive", _transition("unarchive")),
    Route("POST", D + ":delete", _transition("delete")),
    Route("POST", D + ":createTemporaryCredentials", create_credentials),
    Route("POST", D + ":createDownloadUrl", create_download_url),
    Route("POST", D + ":createUploadUrl", create_upload_url),
    Route("POST", P + "/dataLinkingBatch", create_link_batch),
    Route("GET", P + "/dataLinkingBatch/<batchId>", get_link_batch),
    Route("GET", P + "/dataLinkingBatch/<batchId>/items", link_batch_items),
    Route("GET", P + "/dataLinkingBatch/<batchId>/items/<itemId>", link_batch_item),
]
