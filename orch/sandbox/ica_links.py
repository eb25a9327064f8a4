"""ICA data linking batch routes of the sandbox."""

from __future__ import annotations

from werkzeug.wrappers import Response

from orch.sandbox.state import IcaProject, LinkBatch
from orch.sandbox.web import V3, V4, Ctx, HttpError, json_response
from orch.sandbox.ica_common import _project, _wants_v4, data_json, job_json, paged


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


