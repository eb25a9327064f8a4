"""Shared pieces of the sandbox's ICA routes: constants, response bodies, paging, lookups."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from datetime import datetime
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Response

from orch.sandbox.state import (
    ANALYSIS_TAG_KINDS,
    DATA_TAG_KINDS,
    Analysis,
    DataItem,
    IcaProject,
    LinkBatch,
    StateError,
    stable_uuid,
    tags_json,
)
from orch.sandbox.web import Ctx, HttpError, json_response, ts


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


