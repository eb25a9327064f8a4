"""The hand-off action kinds: link, manifest, mark_managed and tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orch.actions.base import BaseAction
from orch.engine import executors
from orch.engine.kinds import kind
from orch.engine.lifecycle import subject_and_tail
from orch.engine.manifest import MANIFEST_COLUMNS, ManifestPlan, ManifestRow
from orch.engine.reasons import alabel, describe, label, plural
from orch.engine.step import Candidate, HandoffBlocked
from orch.errors import ApiError, AuthError, NotFound
from orch.matchers.base import BuildContext, Path
from orch.policy.render import TemplateError
from orch.registry import ActionSpec, actions

MANIFEST_FOLDER = "/fastq_manifests/"


def _string(b: BuildContext, value: Any, path: Path, what: str) -> str | None:
    rendered = b.render(value, path)
    if rendered is None:
        return None
    if not isinstance(rendered, str) or not rendered:
        b.error(path, f"{what} must be a non-empty string, got {rendered!r}")
        return None
    return rendered


def _to(p: dict[str, Any]) -> Any:
    return p.get("to_project") or p.get("to_project_id")


@dataclass(frozen=True)
class LinkParams:
    to: str  # ICA project name


@actions.register("link")
class Link(BaseAction):
    Params = LinkParams
    bare = False
    resource_kinds = frozenset({"ica.data"})
    description = "Link the file into another ICA project (`to`); files already linked there are skipped."
    schema = {"type": "object", "properties": {"to": {"type": "string", "minLength": 1}},
              "required": ["to"], "additionalProperties": False}
    order = 10
    shares_storage = True
    planned_phrase, done_phrase = "{n} to link", "{n} linked"

    @classmethod
    def build(cls, value, b, path):
        to = _string(b, value["to"], path + ("to",), "to")
        return None if to is None else ActionSpec(cls.name, LinkParams(to))

    @classmethod
    def destinations(cls, params):
        return {"to": params.to}

    @classmethod
    def prefetch(cls, step, spec, files):
        if files and step.in_scope(spec.params.to):
            step.prefetch_presence(step.ctx.project(spec.params.to).id, files)

    @classmethod
    def plan_data(cls, step, spec, c, filters):
        r = c.resource
        subject, tail = subject_and_tail(step, c, filters)
        to = spec.params.to
        if not step.in_scope(to):
            step.note(f"link destination {to!r} is outside the scope; not planned")
            return None
        dest = step.ctx.project(to)
        if r.project_id == dest.id or step.linked(dest.id, r):
            return None
        return step.make(cls.name, r, {"to_project": to, "to_project_id": dest.id}, filters,
                         f"link {subject} into {to}: not linked there yet{tail}")

    @classmethod
    def details(cls, params, short=False):
        to = _to(params)
        return f"into {to}" if to else ""

    @classmethod
    def executor_for(cls, resource_kind):
        return executors.LINK


@dataclass(frozen=True)
class ManifestParams:
    to: str  # ICA project name
    name: str  # per-resource template, e.g. "{{ analysis.reference }}.download_manifest.csv"
    folder: str = MANIFEST_FOLDER
    columns: tuple[str, ...] = MANIFEST_COLUMNS


@actions.register("manifest")
class Manifest(BaseAction):
    Params = ManifestParams
    bare = False
    resource_kinds = frozenset({"ica.analysis"})
    description = ("Write one CSV per analysis into `to` at `folder` + `name` (name is rendered per "
                   "analysis with `analysis` and the variables), one row per selected file sorted by "
                   "file_path; skipped when a file already exists at that path; runs after the links.")
    schema = {
        "type": "object",
        "properties": {
            "to": {"type": "string", "minLength": 1},
            "folder": {"type": "string", "pattern": "^(/.*/|\\{\\{.*)$",
                       "description": "absolute folder path, starting and ending with /"},
            "name": {"type": "string", "minLength": 1},
            "columns": {"type": "array", "items": {"enum": list(MANIFEST_COLUMNS)}, "minItems": 1,
                        "uniqueItems": True},
        },
        "required": ["to", "name"],
        "additionalProperties": False,
    }
    needs_for_each = "lists the files for_each selects"
    order = 20
    analysis_phase = 2
    planned_phrase, done_phrase = "{n} manifest{s}", "{n} manifest{s} written"

    @classmethod
    def build(cls, value, b, path):
        to = _string(b, value["to"], path + ("to",), "to")
        folder = _string(b, value.get("folder", MANIFEST_FOLDER), path + ("folder",), "folder")
        if folder is not None and not (folder.startswith("/") and folder.endswith("/")):
            b.error(path + ("folder",), f"folder must start and end with '/', got {folder!r}")
            folder = None
        name = b.check_template(value["name"], path + ("name",))
        if name is not None and "/" in name:
            b.error(path + ("name",), "name is a file name (put the folder in folder:), without '/'")
            name = None
        if None in (to, folder, name):
            return None
        columns = tuple(value.get("columns", MANIFEST_COLUMNS))
        return ActionSpec(cls.name, ManifestParams(to=to, name=name, folder=folder, columns=columns))

    @classmethod
    def destinations(cls, params):
        return {"to": params.to}

    @classmethod
    def plan_analysis(cls, step, spec, analysis, files, planned):
        if step.policy.for_each is None or not files:
            return []
        links = [x.id for x in planned if (k := kind(x.action)) is not None and k.shares_storage]
        act = cls._plan(step, spec, analysis, files, links)
        return [act] if act is not None else []

    @classmethod
    def _plan(cls, step, spec, analysis, files, link_ids):
        ctx, params = step.ctx, spec.params
        try:
            name = step.render(params.name, analysis, analysis)
        except TemplateError as exc:
            raise HandoffBlocked(f"manifest name for analysis {alabel(analysis)}: {exc}") from None
        if not name or "/" in name:
            raise HandoffBlocked(f"manifest name {name!r} for analysis {alabel(analysis)} is not a file name")
        if not step.in_scope(params.to):
            raise HandoffBlocked(f"manifest destination {params.to!r} is outside the scope")
        dest = ctx.project(params.to)
        path = params.folder + name
        try:
            found = ctx.folder_files(dest.id, params.folder).get(path)
        except NotFound:
            found = None  # no such folder yet: no manifest either
        except AuthError:
            raise
        except ApiError:  # the folder listing is refused (e.g. 400 for a missing folder): ask for the one path
            found = ctx.data_at(dest.id, path)
        if found is not None and found.status != "PARTIAL":
            return None  # a manifest is already there
        plan = ManifestPlan(to_project=params.to, to_project_id=dest.id, folder=params.folder, name=name,
                            columns=tuple(params.columns),
                            entries=tuple(ManifestRow(f.name, f.path, f.id) for f in files))
        reason = (f"write the download manifest of analysis {alabel(analysis)} ({plan.rows} "
                  f"{plural(plan.rows, 'file')}) into {params.to}"
                  + ("; a partial upload is there and is completed" if found is not None else "; none exists yet"))
        return step.make(cls.name, analysis, plan.to_params(), step.policy.filters, reason, depends_on=link_ids)

    @classmethod
    def details(cls, params, short=False):
        to = _to(params)
        rows = params.get("rows")
        where = f" in {to}" if to and not short else ""  # the table's reason names the destination
        path = str(params.get("path", ""))
        if short and path:
            path = str(params.get("folder") or path.rsplit("/", 1)[0] + "/")
        return f"{path}{where}" + (f" ({rows} {plural(rows, 'row')})" if rows is not None else "")

    @classmethod
    def executor_for(cls, resource_kind):
        return executors.MANIFEST


@actions.register("mark_managed")
class MarkManaged(BaseAction):
    resource_kinds = frozenset({"ica.analysis"})
    description = ("Record the analysis in the ledger (after the policy's other actions on it; "
                   "also when for_each selected nothing).")
    order = 30
    analysis_phase = 3
    records_handoff = True
    planned_phrase, done_phrase = "{n} to mark managed", "{n} marked managed"

    @classmethod
    def plan_analysis(cls, step, spec, analysis, files, planned):
        if step.ctx.is_managed(analysis, step.group):
            return []
        policy = step.policy
        selected = f" ({len(files)} {plural(len(files), 'file')} selected)" if policy.for_each is not None else ""
        act = step.make(cls.name, analysis, {}, policy.filters,
                        f"record analysis {alabel(analysis)} as handed off{selected}; {describe(policy.filters)}",
                        depends_on=[x.id for x in planned])
        return [act] if act is not None else []

    @classmethod
    def executor_for(cls, resource_kind):
        return executors.MARK_MANAGED


@dataclass(frozen=True)
class TagParams:
    user_tags: tuple[str, ...] = field(default_factory=tuple)  # per-resource templates
    #: ica.analysis policies: "analysis" (the default) or "files" (what for_each selects). Not ``on``:
    #: YAML 1.1 reads the key ``on`` as true.
    target: str | None = None


@actions.register("tag")
class Tag(BaseAction):
    Params = TagParams
    bare = False
    resource_kinds = frozenset({"ica.analysis", "ica.data"})
    description = ("Add user tags (per-resource templates) to the ICA data, or in an analysis policy to the "
                   "analysis (`target: analysis`, the default) or to the files for_each selects (`target: files`).")
    schema = {"type": "object",
              "properties": {"user_tags": {"type": "array", "items": {"type": "string", "minLength": 1},
                                           "minItems": 1},
                             "target": {"enum": ["analysis", "files"],
                                    "description": "ica.analysis policies: what is tagged (default analysis)"}},
              "required": ["user_tags"], "additionalProperties": False}
    order = 40
    planned_phrase, done_phrase = "{n} to tag", "{n} tagged"

    @classmethod
    def build(cls, value, b, path):
        tags = [b.check_template(t, path + ("user_tags", i)) for i, t in enumerate(value["user_tags"])]
        if any(t is None for t in tags):
            return None
        return ActionSpec(cls.name, TagParams(tuple(tags), value.get("target")))

    @classmethod
    def policy_problem(cls, params, resource, for_each):
        if params.target is not None and resource != "ica.analysis":
            return ("target", f"tag target: {params.target} is for ica.analysis policies; a {resource} policy "
                              f"tags its own resources")
        if params.target == "files" and not for_each:
            return "target", "tag target: files tags the files for_each selects: the policy needs for_each"
        return None

    @classmethod
    def plan_analysis(cls, step, spec, analysis, files, planned):
        if spec.params.target == "files":  # explicit: the selected files, never the analysis instead
            return super().plan_analysis(step, spec, analysis, files, planned)
        act = cls.plan_data(step, spec, Candidate(analysis, analysis, f"analysis {alabel(analysis)}"),
                            step.policy.filters)
        return [act] if act is not None else []

    @classmethod
    def plan_data(cls, step, spec, c, filters):
        r = c.resource
        subject, tail = subject_and_tail(step, c, filters)
        tags = []
        for t in spec.params.user_tags:
            try:
                tags.append(step.render(t, c.analysis, r))
            except TemplateError as exc:
                step.error(f"tag for {label(r)}: {exc} (skipped)")
                return None
        missing = sorted(set(tags) - set(r.user_tags))
        if not missing:
            return None
        return step.make(cls.name, r, {"user_tags": missing}, filters, f"tag {subject} with {', '.join(missing)}{tail}")

    @classmethod
    def details(cls, params, short=False):
        return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) if params else ""

    @classmethod
    def executor_for(cls, resource_kind):
        return executors.TAG
