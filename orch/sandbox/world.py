"""Sandbox world files (contracts section 3): JSON Schema, load into ``World``, dump back.

``load_world`` accepts a path (YAML or JSON) or an already-parsed dict, validates it
against ``world_schema()`` and raises ``ConfigError`` with one line naming the bad
field. ``dump_world`` writes the current state in the same format; dump → load → dump
is the identity. Sandbox-only fields (documented in the schema) keep asynchronous work
in flight across a dump: ``dueAt`` on data, datasets and runs, ``ArchiveStatus`` on
BaseSpace objects, ``ica.link_batches`` and ``basespace.trash``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from orch.errors import ConfigError
from orch.sandbox.state import (
    ANALYSIS_STATUSES,
    ANALYSIS_TAG_KINDS,
    DATA_STATUSES,
    DATA_TAG_KINDS,
    TRANSIT,
    Analysis,
    BsProject,
    DataItem,
    Dataset,
    IcaProject,
    LinkBatch,
    LinkBatchItem,
    Run,
    StateError,
    Tags,
    Timing,
    TrashItem,
    World,
    data_id_for,
    stable_hex,
    stable_uuid,
)
from orch.timeutil import format_ts, parse_duration, parse_ts, utcnow

# ---------------------------------------------------------------------------- schema
_TS = {"type": "string", "format": "date-time", "description": "ISO 8601 UTC timestamp"}
_UUID = {"type": "string", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
         "description": "a UUID (ICA's clients parse these ids as UUIDs)"}
_DURATION = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhdw]\s*$", "description": "e.g. 90d, 6h, 10m, 5s"}
_DUE = dict(_TS, description="Sandbox-only: when the asynchronous work in flight completes (kept across dump/load).")


def _obj(props: dict, required: list[str] | None = None, description: str | None = None) -> dict:
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    if description:
        out["description"] = description
    return out


def _tags_schema(kinds: tuple[str, ...], what: str) -> dict:
    return _obj({k: {"type": "array", "items": {"type": "string", "minLength": 1}} for k in kinds},
                description=f"The {what}'s tags, as the API shows them (set by PUT; shown when not empty).")


_DATA = _obj({
    "path": {"type": "string", "pattern": "^/.", "description": "a full path starting with /; a folder ends with /"},
    "id": {"type": "string", "pattern": r"^(fil|fol)\.\S+$"},
    "timeCreated": _TS,
    "timeModified": _TS,
    "status": {"enum": list(DATA_STATUSES)},
    "size": {"type": "integer", "minimum": 0},
    "content": {"type": "string", "description": "The file's body (text)."},
    "contentBase64": {"type": "string", "description": "The file's body, base64 (binary uploads are dumped this way)."},
    "format": {"type": "string", "description": "format.code, e.g. FASTQ"},
    "owningProjectId": dict(_UUID, description="Set on data linked in from another project (same id there)."),
    "dueAt": _DUE,
    "tags": _tags_schema(DATA_TAG_KINDS, "data"),
    "willBeArchivedAt": dict(_TS, description="ICA archives the file by itself at this time."),
    "willBeDeletedAt": dict(_TS, description="ICA deletes the file by itself at this time."),
}, ["path"])

_ANALYSIS = _obj({
    "id": _UUID,
    "reference": {"type": "string", "minLength": 1},
    "userReference": {"type": "string", "minLength": 1},
    "pipeline": {"type": "string", "minLength": 1, "description": "pipeline.code"},
    "status": {"enum": list(ANALYSIS_STATUSES), "description": "V3 spelling"},
    "timeCreated": _TS,
    "timeModified": _TS,
    "startDate": _TS,
    "endDate": _TS,
    "output": {"type": "string", "pattern": "^/.*/$", "description": "The output folder /outputs returns."},
    "outputId": {"type": "string", "pattern": r"^fol\.\S+$",
                 "description": "Its id (default: the folder at output); /outputs keeps it after the folder is deleted."},
    "tags": _tags_schema(ANALYSIS_TAG_KINDS, "analysis"),
    "finishAt": {**_TS, "description": "Sandbox only: when the sandbox clock passes it, the analysis becomes "
                                       "SUCCEEDED (endDate = finishAt) and its notification events are sent."},
}, ["userReference"])

_LINK_BATCH = _obj({
    "id": _UUID,
    "jobId": _UUID,
    "projectId": _UUID,
    "timeCreated": _TS,
    "dueAt": _DUE,
    "timeFinished": _TS,
    "status": {"enum": ["RUNNING", "SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED"]},
    "items": {"type": "array", "items": _obj({
        "id": _UUID, "dataId": {"type": "string"},
        "status": {"enum": ["INITIALISED", "LINKED", "ALREADY_LINKED", "FAILED"]},
        "message": {"type": "string"}}, ["id", "dataId"])},
}, ["id", "projectId", "timeCreated", "dueAt", "items"],
    "Sandbox-only: dataLinkingBatch jobs (kept so polls work across dump/load).")

_ARCHIVE_STATUS = {"enum": ["Archiving", "Restoring"],
                   "description": "Sandbox-only: archive/restore in flight until dueAt (IsArchived is true from the "
                                  "archive request on; a restore flips it at dueAt); world files and dumps only, "
                                  "never in a BaseSpace response."}

_DATASET = _obj({
    "Id": {"type": "string", "minLength": 1},
    "Name": {"type": "string", "minLength": 1},
    "DateCreated": _TS,
    "DateModified": _TS,
    "IsArchived": {"type": "boolean"},
    "TotalSize": {"type": "integer", "minimum": 0},
    "DatasetType": {"type": "string", "description": "DatasetType.Id"},
    "QcStatus": {"type": "string"},
    "ArchiveStatus": _ARCHIVE_STATUS,
    "dueAt": _DUE,
    "IsFileDataDeleted": {"type": "boolean", "description": "Files deleted (not eligible for archive)."},
    "shared": {"type": "boolean", "description": "Sandbox-only: shared with others (not eligible for archive)."},
}, ["Name"])

_RUN = _obj({
    "Id": {"type": "string", "minLength": 1},
    "Name": {"type": "string", "minLength": 1},
    "ExperimentName": {"type": "string"},
    "DateCreated": _TS,
    "DateModified": _TS,
    "Status": {"enum": ["New", "Ready", "Running", "Paused", "Stopped", "Uploading", "PendingAnalysis",
                        "Analyzing", "Complete", "Failed", "NeedsAttention"]},
    "IsArchived": {"type": "boolean"},
    "TotalSize": {"type": "integer", "minimum": 0},
    "ArchiveStatus": _ARCHIVE_STATUS,
    "dueAt": _DUE,
    "IsFileDataDeleted": {"type": "boolean", "description": "Files deleted (not eligible for archive)."},
    "shared": {"type": "boolean", "description": "Sandbox-only: shared with others (not eligible for archive)."},
}, ["Name"])

_TRASH = _obj({
    "Id": {"type": "string"},
    "DateDeleted": _TS,
    "ProjectId": {"type": "string", "description": "Project of a trashed dataset."},
    "dataset": _DATASET,
    "run": _RUN,
}, ["Id", "DateDeleted"], "Sandbox-only: the BaseSpace trash (one of dataset or run).")

WORLD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://orch.local/schemas/world.schema.json",
    "title": "orch sandbox world",
    "description": "Starting state of the orch sandbox (ICA, BaseSpace, timing). Field names mirror the APIs.",
    **_obj({
        "format_version": {"const": 1},
        "now": dict(_TS, description="The sandbox clock at start (default: the real time)."),
        "ica": _obj({
            "api_key": {"type": "string", "minLength": 1, "description": "The X-API-Key accepted (default sandbox-key)."},
            "projects": {"type": "array", "items": _obj({
                "name": {"type": "string", "minLength": 1},
                "id": _UUID,
                "timeCreated": _TS,
                "shortDescription": {"type": "string"},
                "dataSharingEnabled": {"type": "boolean", "description": "May its data be linked elsewhere (default true)."},
                "kms": {"type": "boolean", "description": "Sandbox: storage encrypted with SSE-KMS (a moto KMS key); "
                                                          "uploads without that key are refused."},
                "data": {"type": "array", "items": _DATA},
                "analyses": {"type": "array", "items": _ANALYSIS},
            }, ["name"])},
            "link_batches": {"type": "array", "items": _LINK_BATCH},
        }),
        "basespace": _obj({
            "access_token": {"type": "string", "minLength": 1, "description": "The bearer token accepted (default sandbox-token)."},
            "scopes": {"type": "array", "items": {"type": "string"}, "description": "Response.Scopes of token/current."},
            "projects": {"type": "array", "items": _obj({
                "Name": {"type": "string", "minLength": 1},
                "Id": {"type": "string", "minLength": 1},
                "DateCreated": _TS,
                "Description": {"type": "string"},
                "datasets": {"type": "array", "items": _DATASET},
            }, ["Name"])},
            "runs": {"type": "array", "items": _RUN},
            "trash": {"type": "array", "items": _TRASH},
        }),
        "timing": _obj({k: _DURATION for k in ("archive", "unarchive", "delete", "link_batch")},
                       description="Sandbox-clock durations of asynchronous work."),
        "sandbox": _obj({
            "refuse_routes": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Z]+ /\S+$"},
                              "description": "Routes answered like unknown ones (404), e.g. 'DELETE /v2/datasets/{id}'."},
        }, description="Sandbox-only behaviour switches."),
    }, ["format_version"]),
}


def world_schema() -> dict[str, Any]:
    """The JSON Schema of world files (``orch schema world``)."""
    import copy

    return copy.deepcopy(WORLD_SCHEMA)


def _is_string(checker, instance) -> bool:  # YAML turns unquoted timestamps into datetimes
    return isinstance(instance, (str, datetime))


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("string", _is_string),
)
_VALIDATOR = _Validator(WORLD_SCHEMA)


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_FAST: list[Any] = []


def _fast_validator():
    """fastjsonschema compiled from the same schema (about 20x faster on a 1M-file world).

    It only decides pass/fail; on failure (or when it is not installed) jsonschema
    re-validates to name the field. Formats are not checked by either (timestamps are
    parsed, with their own message, while building the world).
    """
    if not _FAST:
        try:
            import fastjsonschema
        except ImportError:
            _FAST.append(None)
        else:
            schema = world_schema()
            schema["$schema"] = "http://json-schema.org/draft-07/schema#"
            _FAST.append(fastjsonschema.compile(schema, formats={"date-time": lambda value: True}))
    return _FAST[0]


def validate_world(doc: Any, source: str = "world") -> None:
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{source}: a world file must be a mapping with format_version: 1")
    fast = _fast_validator()
    if fast is not None:
        try:
            fast(doc)
            return
        except Exception:  # JsonSchemaValueException, or a datetime object where a string is expected
            pass
    err = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(doc))
    if err is not None:
        if err.validator == "additionalProperties":
            msg = err.message.replace(" were unexpected", " is not allowed").replace(" was unexpected", " is not allowed")
        elif err.validator == "pattern" and isinstance(err.instance, str):
            desc = err.schema.get("description")
            msg = f"{err.instance!r} is not valid" + (f" ({desc})" if desc else "")
        else:
            msg = err.message
        raise ConfigError(f"{source}: {_where(err.absolute_path)}: {msg}")


# ---------------------------------------------------------------------------- load
# libyaml's parser when PyYAML has it: about 10x faster on large worlds, same documents.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoTimestampLoader(_SafeLoader):
    """SafeLoader that keeps timestamps as strings (parsed later, exactly)."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_world_file(path: str | Path) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read world file {p}: {exc.strerror or exc}") from None
    if p.suffix.lower() == ".json":  # much faster than YAML for very large worlds
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{p}: invalid JSON ({exc})") from None
    try:
        return yaml.load(text, Loader=_NoTimestampLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{p}{where}: {problem}") from None


class _Ts:
    """Parses timestamps once per distinct string (large worlds repeat them)."""

    def __init__(self, source: str):
        self.cache: dict[Any, datetime] = {}
        self.source = source

    def __call__(self, value: Any, where: str | tuple, default: datetime | None = None) -> datetime | None:
        """``where`` names the field for the error; a (prefix, index, field) tuple is formatted lazily."""
        if value is None:
            return default
        got = self.cache.get(value)
        if got is None:
            try:
                got = parse_ts(value)
            except (ValueError, TypeError):
                if isinstance(where, tuple):
                    where = f"{where[0]}.data[{where[1]}].{where[2]}"
                raise ConfigError(f"{self.source}: {where}: {value!r} is not an ISO 8601 timestamp") from None
            self.cache[value] = got
        return got


def load_world(src: str | Path | Mapping) -> World:
    """Validate and build a ``World`` from a world file path or a parsed dict."""
    if isinstance(src, (str, Path)):
        source = str(src)
        doc = read_world_file(src)
    else:
        source = "world"
        doc = src
    validate_world(doc, source)
    try:
        return _build(doc, source)
    except StateError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None


def _content(entry: Mapping, where: str, source: str) -> bytes | None:
    if "content" in entry:
        return str(entry["content"]).encode("utf-8")
    if "contentBase64" in entry:
        try:
            return base64.b64decode(entry["contentBase64"], validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{source}: {where}.contentBase64: not valid base64") from None
    return None


def _build(doc: Mapping, source: str) -> World:
    ts = _Ts(source)
    now = ts(doc.get("now"), "now", utcnow())
    timing_doc = doc.get("timing") or {}
    timing = Timing(**{k: parse_duration(v) for k, v in timing_doc.items()})
    ica = doc.get("ica") or {}
    bs = doc.get("basespace") or {}
    world = World(now=now, timing=timing)
    if "api_key" in ica:
        world.api_key = ica["api_key"]
    if "access_token" in bs:
        world.access_token = bs["access_token"]
    if "scopes" in bs:
        world.scopes = list(bs["scopes"])
    world.refused_routes = set((doc.get("sandbox") or {}).get("refuse_routes") or ())

    # ICA projects and the data they own; links come second (they need their owners).
    pending_links: list[tuple[IcaProject, str, str, str]] = []
    for pi, pdoc in enumerate(ica.get("projects") or []):
        pwhere = f"ica.projects[{pi}]"
        project = IcaProject(id=pdoc.get("id") or stable_uuid("ica-project", pdoc["name"]), name=pdoc["name"],
                             time_created=ts(pdoc.get("timeCreated"), f"{pwhere}.timeCreated", now - timedelta(days=365)),
                             short_description=pdoc.get("shortDescription", ""),
                             data_sharing=pdoc.get("dataSharingEnabled", True), kms=pdoc.get("kms", False))
        world.add_project(project)
        _load_data(world, project, pdoc.get("data") or [], pwhere, ts, source, pending_links)
        for ai, adoc in enumerate(pdoc.get("analyses") or []):
            _load_analysis(project, adoc, f"{pwhere}.analyses[{ai}]", ts, now)
            if project.analyses[-1].finish_at is not None:  # finishAt: it succeeds on the sandbox clock
                world.schedule(project.analyses[-1].finish_at, "analysis", f"{project.id}/{project.analyses[-1].id}")
    for project, owner_id, data_id, where in pending_links:
        item = world.data_by_id.get(data_id)
        if item is None or item.owner.id != owner_id:
            raise ConfigError(f"{source}: {where}: linked data {data_id} is not owned by project {owner_id}")
        world.link(item, project)
    for bi, bdoc in enumerate(ica.get("link_batches") or []):
        where = f"ica.link_batches[{bi}]"
        if bdoc["projectId"] not in world.projects_by_id:
            raise ConfigError(f"{source}: {where}.projectId: no project {bdoc['projectId']}")
        world.add_link_batch(LinkBatch(
            id=bdoc["id"], job_id=bdoc.get("jobId") or stable_uuid("job", bdoc["id"]), project_id=bdoc["projectId"],
            time_created=ts(bdoc["timeCreated"], where), due_at=ts(bdoc["dueAt"], where),
            items=[LinkBatchItem(id=i["id"], data_id=i["dataId"], status=i.get("status", "INITIALISED"),
                                 message=i.get("message")) for i in bdoc["items"]],
            status=bdoc.get("status", "RUNNING"), time_finished=ts(bdoc.get("timeFinished"), where)))

    # BaseSpace
    for pi, pdoc in enumerate(bs.get("projects") or []):
        pwhere = f"basespace.projects[{pi}]"
        bp = BsProject(Id=pdoc.get("Id") or str(1000 + int(stable_hex("bs-project", pdoc["Name"], n=8), 16) % 9_000_000),
                       Name=pdoc["Name"], DateCreated=ts(pdoc.get("DateCreated"), pwhere, now - timedelta(days=365)),
                       Description=pdoc.get("Description", ""))
        if any(p.Id == bp.Id for p in world.bs_projects):
            raise ConfigError(f"{source}: {pwhere}.Id: duplicate BaseSpace project id {bp.Id}")
        world.bs_projects.append(bp)
        for di, ddoc in enumerate(pdoc.get("datasets") or []):
            world.add_dataset(_dataset(ddoc, bp, f"{pwhere}.datasets[{di}]", ts, now))
    for ri, rdoc in enumerate(bs.get("runs") or []):
        world.add_run(_run(rdoc, f"basespace.runs[{ri}]", ts, now))
    by_id = {p.Id: p for p in world.bs_projects}
    for ti, tdoc in enumerate(bs.get("trash") or []):
        where = f"basespace.trash[{ti}]"
        if ("dataset" in tdoc) == ("run" in tdoc):
            raise ConfigError(f"{source}: {where}: give exactly one of dataset or run")
        item = TrashItem(Id=tdoc["Id"], DateDeleted=ts(tdoc["DateDeleted"], where))
        if "dataset" in tdoc:
            pid = tdoc.get("ProjectId", "")
            project = by_id.get(pid) or BsProject(Id=pid or "0", Name="(deleted project)", DateCreated=now)
            item.dataset = _dataset(tdoc["dataset"], project, f"{where}.dataset", ts, now)
        else:
            item.run = _run(tdoc["run"], f"{where}.run", ts, now)
        world.trash.append(item)
    return world


def _load_data(world: World, project: IcaProject, entries: list, pwhere: str, ts: _Ts, source: str,
               pending_links: list) -> None:
    items: dict[str, DataItem] = {}
    now = world.now
    pid = project.id
    for di, d in enumerate(entries):  # hot loop on big worlds: error locations are built only on error
        path = d["path"]
        if "//" in path:
            raise ConfigError(f"{source}: {pwhere}.data[{di}].path: {path!r} has an empty folder name")
        if "owningProjectId" in d and d["owningProjectId"] != pid:
            pending_links.append((project, d["owningProjectId"], d.get("id") or data_id_for(d["owningProjectId"], path),
                                  f"{pwhere}.data[{di}]"))
            continue
        if path in items:
            raise ConfigError(f"{source}: {pwhere}.data[{di}].path: {path} is listed twice")
        created = ts(d.get("timeCreated"), (pwhere, di, "timeCreated"), now)
        content = _content(d, f"{pwhere}.data[{di}]", source) if ("content" in d or "contentBase64" in d) else None
        folder = path[-1] == "/"
        if folder and (content is not None or "size" in d):
            raise ConfigError(f"{source}: {pwhere}.data[{di}]: a folder has no size or content")
        status = d.get("status", "AVAILABLE")
        due = None
        if status in TRANSIT:
            due = ts(d.get("dueAt"), (pwhere, di, "dueAt"))
            if due is None:
                op = {"ARCHIVING": "archive", "UNARCHIVING": "unarchive", "DELETING": "delete"}[status]
                due = now + getattr(world.timing, op)
        did = d.get("id") or data_id_for(pid, path)
        if did.startswith("fol.") != folder:
            raise ConfigError(f"{source}: {pwhere}.data[{di}].id: {did} does not fit a {'folder' if folder else 'file'}")
        modified = d.get("timeModified")
        items[path] = DataItem(
            id=did, owner=project, path=path, status=status, time_created=created,
            time_modified=created if modified is None else ts(modified, (pwhere, di, "timeModified")),
            size=None if folder else d.get("size", len(content) if content is not None else 0),
            content=content, due_at=due, format_code=d.get("format"),
            tags=Tags.of(d["tags"]) if "tags" in d else None,
            will_archive_at=ts(d.get("willBeArchivedAt"), (pwhere, di, "willBeArchivedAt")),
            will_delete_at=ts(d.get("willBeDeletedAt"), (pwhere, di, "willBeDeletedAt")))
    # implied parent folders: AVAILABLE, or ARCHIVED inside a folder the world gives as ARCHIVED
    explicit = {p: it.status for p, it in items.items() if p[-1] == "/"}
    for path, item in list(items.items()):
        cur = item.parent_path
        while cur != "/" and cur not in items:
            folder = DataItem(id=data_id_for(project.id, cur), owner=project, path=cur,
                              status=_inherited_status(cur, explicit),
                              time_created=item.time_created, time_modified=item.time_created)
            items[cur] = folder
            cur = folder.parent_path
    all_items = list(items.values())
    project.data.bulk_load(all_items)
    for item in all_items:
        if item.id in world.data_by_id:
            raise ConfigError(f"{source}: {pwhere}: duplicate data id {item.id}")
        world.data_by_id[item.id] = item
        if item.due_at is not None:
            world.schedule(item.due_at, "data", item.id)
        world.schedule_platform(item)


def _inherited_status(folder: str, explicit: dict[str, str]) -> str:
    cur = folder
    while cur != "/":
        cur = cur.rstrip("/").rsplit("/", 1)[0] + "/"
        if cur in explicit:
            return "ARCHIVED" if explicit[cur] == "ARCHIVED" else "AVAILABLE"
    return "AVAILABLE"


def _load_analysis(project: IcaProject, a: Mapping, where: str, ts: _Ts, now: datetime) -> None:
    pipeline = a.get("pipeline", "BclConvert_v4_1_23_patch1")
    aid = a.get("id") or stable_uuid("analysis", project.id, a.get("reference") or a["userReference"])
    created = ts(a.get("timeCreated"), f"{where}.timeCreated", now)
    project.analyses.append(Analysis(
        id=aid, reference=a.get("reference") or f"{a['userReference']}-{pipeline}-{aid}",
        user_reference=a["userReference"], pipeline=pipeline, status=a.get("status", "SUCCEEDED"),
        time_created=created, time_modified=ts(a.get("timeModified"), f"{where}.timeModified", created),
        start_date=ts(a.get("startDate"), f"{where}.startDate", created),
        end_date=ts(a.get("endDate"), f"{where}.endDate"), output=a.get("output"),
        output_id=_output_id(project, a), tags=Tags.of(a["tags"]) if "tags" in a else None,
        finish_at=ts(a.get("finishAt"), f"{where}.finishAt")))


def _output_id(project: IcaProject, a: Mapping) -> str | None:
    output = a.get("output")
    if not output:
        return None
    if a.get("outputId"):
        return a["outputId"]
    folder = project.data.get(output)
    return folder.id if folder is not None else data_id_for(project.id, output)


def _pending(doc: Mapping, where: str, ts: _Ts) -> tuple[str | None, datetime | None]:
    status = doc.get("ArchiveStatus")
    due = ts(doc.get("dueAt"), f"{where}.dueAt")
    if (status is None) != (due is None):
        raise ConfigError(f"{ts.source}: {where}: ArchiveStatus and dueAt go together")
    return status, due


def _dataset(d: Mapping, project: BsProject, where: str, ts: _Ts, now: datetime) -> Dataset:
    created = ts(d.get("DateCreated"), f"{where}.DateCreated", now)
    pending, due = _pending(d, where, ts)
    return Dataset(Id=d.get("Id") or "ds." + stable_hex("dataset", project.Id, d["Name"]), Name=d["Name"],
                   project=project, DateCreated=created,
                   DateModified=ts(d.get("DateModified"), f"{where}.DateModified", created),
                   IsArchived=d.get("IsArchived", False) or pending == "Archiving", TotalSize=d.get("TotalSize", 0),
                   DatasetType=d.get("DatasetType", "illumina.fastq.v1.8"), QcStatus=d.get("QcStatus", "QcPassed"),
                   pending=pending, due_at=due, IsFileDataDeleted=d.get("IsFileDataDeleted", False),
                   shared=d.get("shared", False))


def _run(d: Mapping, where: str, ts: _Ts, now: datetime) -> Run:
    created = ts(d.get("DateCreated"), f"{where}.DateCreated", now)
    pending, due = _pending(d, where, ts)
    return Run(Id=d.get("Id") or str(2000 + int(stable_hex("run", d["Name"], n=8), 16) % 9_000_000),
               Name=d["Name"], DateCreated=created,
               DateModified=ts(d.get("DateModified"), f"{where}.DateModified", created),
               ExperimentName=d.get("ExperimentName", ""), Status=d.get("Status", "Complete"),
               IsArchived=d.get("IsArchived", False) or pending == "Archiving", TotalSize=d.get("TotalSize", 0),
               pending=pending, due_at=due, IsFileDataDeleted=d.get("IsFileDataDeleted", False),
               shared=d.get("shared", False))


# ---------------------------------------------------------------------------- dump
def _dur(td: timedelta) -> str:
    s = int(td.total_seconds())
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % n == 0:
            return f"{s // n}{unit}"
    return f"{s}s"


def _dump_item(item: DataItem, project: IcaProject) -> dict[str, Any]:
    if item.owner is not project:
        return {"path": item.path, "id": item.id, "owningProjectId": item.owner.id}
    out: dict[str, Any] = {"path": item.path, "id": item.id, "timeCreated": format_ts(item.time_created),
                           "timeModified": format_ts(item.time_modified), "status": item.status}
    if not item.is_folder:
        out["size"] = item.size or 0
    if item.content is not None:
        try:
            out["content"] = item.content.decode("utf-8")
        except UnicodeDecodeError:
            out["contentBase64"] = base64.b64encode(item.content).decode("ascii")
    if item.format_code:
        out["format"] = item.format_code
    if item.due_at is not None:
        out["dueAt"] = format_ts(item.due_at)
    if item.tags is not None:
        out["tags"] = item.tags.as_dict()
    if item.will_archive_at is not None:
        out["willBeArchivedAt"] = format_ts(item.will_archive_at)
    if item.will_delete_at is not None:
        out["willBeDeletedAt"] = format_ts(item.will_delete_at)
    return out


def _dump_pending(obj: Dataset | Run, out: dict) -> dict:
    if obj.IsFileDataDeleted:
        out["IsFileDataDeleted"] = True
    if obj.shared:
        out["shared"] = True
    if obj.pending:
        out["ArchiveStatus"] = obj.pending
        out["dueAt"] = format_ts(obj.due_at)
    return out


def _dump_dataset(ds: Dataset) -> dict[str, Any]:
    return _dump_pending(ds, {
        "Id": ds.Id, "Name": ds.Name, "DateCreated": format_ts(ds.DateCreated),
        "DateModified": format_ts(ds.DateModified), "IsArchived": ds.IsArchived, "TotalSize": ds.TotalSize,
        "DatasetType": ds.DatasetType, "QcStatus": ds.QcStatus})


def _dump_run(r: Run) -> dict[str, Any]:
    return _dump_pending(r, {
        "Id": r.Id, "Name": r.Name, "ExperimentName": r.ExperimentName, "DateCreated": format_ts(r.DateCreated),
        "DateModified": format_ts(r.DateModified), "Status": r.Status, "IsArchived": r.IsArchived,
        "TotalSize": r.TotalSize})


def dump_world(world: World, now: datetime | None = None) -> dict[str, Any]:
    """The state in the world format (``now`` defaults to the world's start clock)."""
    projects = []
    for p in world.projects:
        analyses = []
        for a in p.analyses:
            ad: dict[str, Any] = {"id": a.id, "reference": a.reference, "userReference": a.user_reference,
                                  "pipeline": a.pipeline, "status": a.status,
                                  "timeCreated": format_ts(a.time_created), "timeModified": format_ts(a.time_modified)}
            if a.start_date:
                ad["startDate"] = format_ts(a.start_date)
            if a.end_date:
                ad["endDate"] = format_ts(a.end_date)
            if a.output:
                ad["output"] = a.output
                ad["outputId"] = a.output_id
            if a.tags is not None:
                ad["tags"] = a.tags.as_dict()
            if a.finish_at is not None:
                ad["finishAt"] = format_ts(a.finish_at)
            analyses.append(ad)
        projects.append({"name": p.name, "id": p.id, "timeCreated": format_ts(p.time_created),
                         "shortDescription": p.short_description,
                         **({} if p.data_sharing else {"dataSharingEnabled": False}), **({"kms": True} if p.kms else {}),
                         "data": [_dump_item(it, p) for it in p.data.items], "analyses": analyses})
    batches = []
    for b in world.link_batches.values():
        bd: dict[str, Any] = {"id": b.id, "jobId": b.job_id, "projectId": b.project_id,
                              "timeCreated": format_ts(b.time_created), "dueAt": format_ts(b.due_at),
                              "status": b.status,
                              "items": [{"id": i.id, "dataId": i.data_id, "status": i.status,
                                         **({"message": i.message} if i.message else {})} for i in b.items]}
        if b.time_finished:
            bd["timeFinished"] = format_ts(b.time_finished)
        batches.append(bd)
    trash = []
    for t in world.trash:
        td: dict[str, Any] = {"Id": t.Id, "DateDeleted": format_ts(t.DateDeleted)}
        if t.dataset is not None:
            td["ProjectId"] = t.dataset.project.Id
            td["dataset"] = _dump_dataset(t.dataset)
        else:
            td["run"] = _dump_run(t.run)  # type: ignore[arg-type]
        trash.append(td)
    return {
        "format_version": 1,
        "now": format_ts(now or world.now),
        "ica": {"api_key": world.api_key, "projects": projects, "link_batches": batches},
        "basespace": {
            "access_token": world.access_token, "scopes": list(world.scopes),
            "projects": [{"Name": bp.Name, "Id": bp.Id, "DateCreated": format_ts(bp.DateCreated),
                          "Description": bp.Description, "datasets": [_dump_dataset(d) for d in bp.datasets]}
                         for bp in world.bs_projects],
            "runs": [_dump_run(r) for r in world.runs],
            "trash": trash,
        },
        "timing": {k: _dur(getattr(world.timing, k)) for k in ("archive", "unarchive", "delete", "link_batch")},
        **({"sandbox": {"refuse_routes": sorted(world.refused_routes)}} if world.refused_routes else {}),
    }
