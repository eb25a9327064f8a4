"""ICA projects and analyses routes of the sandbox (list, search, get, PUT tags, outputs)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from orch.sandbox.state import ANALYSIS_STATUSES, ANALYSIS_TAG_KINDS, Analysis, Tags, stable_hex
from orch.sandbox.web import V3, V4, Ctx, HttpError, json_response, ts
from orch.sandbox.ica_common import _analysis, _project, _wants_v4, analysis_json, paged, project_json


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


