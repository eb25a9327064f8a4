"""The action kinds of policy language v1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orch.actions.base import BaseAction
from orch.matchers.base import BuildContext, Path
from orch.registry import ActionSpec, actions

DATA_KINDS = frozenset({"ica.data", "bssh.dataset", "bssh.run"})
MANIFEST_COLUMNS = ("file_name", "file_path", "data_id", "project_id")


def _string(b: BuildContext, value: Any, path: Path, what: str) -> str | None:
    rendered = b.render(value, path)
    if rendered is None:
        return None
    if not isinstance(rendered, str) or not rendered:
        b.error(path, f"{what} must be a non-empty string, got {rendered!r}")
        return None
    return rendered


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

    @classmethod
    def build(cls, value, b, path):
        to = _string(b, value["to"], path + ("to",), "to")
        return None if to is None else ActionSpec(cls.name, LinkParams(to))


@dataclass(frozen=True)
class ManifestParams:
    to: str  # ICA project name
    name: str  # per-resource template, e.g. "{{ analysis.reference }}.download_manifest.csv"
    folder: str = "/fastq_manifests/"
    columns: tuple[str, ...] = MANIFEST_COLUMNS

    @property
    def path_template(self) -> str:
        return self.folder + self.name


@actions.register("manifest")
class Manifest(BaseAction):
    Params = ManifestParams
    bare = False
    template_fields = ("name",)
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

    @classmethod
    def build(cls, value, b, path):
        to = _string(b, value["to"], path + ("to",), "to")
        folder = _string(b, value.get("folder", "/fastq_manifests/"), path + ("folder",), "folder")
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


@actions.register("archive")
class Archive(BaseAction):
    resource_kinds = DATA_KINDS
    description = "Archive the data (ICA: AVAILABLE → ARCHIVED; BaseSpace datasets and runs)."


@dataclass(frozen=True)
class UnarchiveParams:
    then: str | None = None  # "delete": delete once the data is available again


@actions.register("unarchive")
class Unarchive(BaseAction):
    Params = UnarchiveParams
    resource_kinds = DATA_KINDS
    description = ("Unarchive (BaseSpace: restore) the data. `then: delete` makes it the first "
                   "phase of a delete (destructive).")
    schema = {"type": ["object", "null"], "properties": {"then": {"enum": ["delete"]}},
              "additionalProperties": False}

    @classmethod
    def build(cls, value, b, path):
        return ActionSpec(cls.name, UnarchiveParams((value or {}).get("then")))

    @classmethod
    def is_destructive(cls, params):
        return getattr(params, "then", None) == "delete"


@actions.register("delete")
class Delete(BaseAction):
    resource_kinds = DATA_KINDS
    destructive = True
    description = ("Delete the data. Archived data is planned as `unarchive` with `then: delete`; "
                   "a later run deletes it once available. Needs allow_destructive: true.")


@actions.register("mark_managed")
class MarkManaged(BaseAction):
    resource_kinds = frozenset({"ica.analysis"})
    description = ("Record the analysis in the ledger (after the policy's other actions on it; "
                   "also when for_each selected nothing).")


@dataclass(frozen=True)
class TagParams:
    user_tags: tuple[str, ...] = field(default_factory=tuple)  # per-resource templates


@actions.register("tag")
class Tag(BaseAction):
    Params = TagParams
    bare = False
    template_fields = ("user_tags",)
    resource_kinds = frozenset({"ica.analysis", "ica.data"})
    description = "Add user tags (per-resource templates) to the ICA analysis or data."
    schema = {"type": "object",
              "properties": {"user_tags": {"type": "array", "items": {"type": "string", "minLength": 1},
                                           "minItems": 1}},
              "required": ["user_tags"], "additionalProperties": False}

    @classmethod
    def build(cls, value, b, path):
        tags = [b.check_template(t, path + ("user_tags", i)) for i, t in enumerate(value["user_tags"])]
        if any(t is None for t in tags):
            return None
        return ActionSpec(cls.name, TagParams(tuple(tags)))


@actions.register("purge_trash")
class PurgeTrash(BaseAction):
    resource_kinds = frozenset({"bssh.trash"})
    destructive = True
    description = ("Empty the whole BaseSpace trash; planned only when the plan deletes something on "
                   "BaseSpace, after those deletes. Needs allow_destructive: true.")
