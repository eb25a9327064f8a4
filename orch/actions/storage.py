"""The storage action kinds: archive, unarchive, delete and purge_trash."""

from __future__ import annotations

from dataclasses import dataclass

from orch.actions.base import BaseAction
from orch.engine import executors
from orch.engine.lifecycle import plan_storage
from orch.engine.plan import Outcome, PlannedAction, ResourceRef, fingerprint
from orch.registry import ActionSpec, actions
from orch.vocab import BSSH_DATA_KINDS, DATA_KINDS

TRASH_REF = ResourceRef(kind="bssh.trash", id="trash", name="BaseSpace trash")


class _Storage(BaseAction):
    """archive, unarchive and delete: one shared planner step; ``storage_decision`` picks the verb."""

    resource_kinds = DATA_KINDS
    lifecycle = True
    marker = "~"

    @classmethod
    def plan_data(cls, step, spec, c, filters):
        return plan_storage(cls, step, spec, c, filters)

    @classmethod
    def storage_decision(cls, archived: bool, spec: ActionSpec, subject: str,
                         tail: str) -> tuple[str, dict, str] | None:
        """(action, params, reason) to plan given the archive state; None when nothing is to be done."""
        raise NotImplementedError

    @classmethod
    def executor_for(cls, resource_kind):
        return executors.storage_executor(cls.name, resource_kind)


@actions.register("archive")
class Archive(_Storage):
    description = "Archive the data (ICA: AVAILABLE → ARCHIVED; BaseSpace datasets and runs)."
    order = 50
    rank = 2
    planned_phrase, done_phrase = "{n} to archive", "{n} archive{s} requested"

    @classmethod
    def storage_decision(cls, archived, spec, subject, tail):
        return None if archived else (cls.name, {}, f"archive {subject}{tail}")


@dataclass(frozen=True)
class UnarchiveParams:
    then: str | None = None  # "delete": delete once the data is available again


@actions.register("unarchive")
class Unarchive(_Storage):
    Params = UnarchiveParams
    description = ("Unarchive (BaseSpace: restore) the data. `then: delete` makes it the first "
                   "phase of a delete (destructive).")
    schema = {"type": ["object", "null"], "properties": {"then": {"enum": ["delete"]}},
              "additionalProperties": False}
    destructive_doc = "with `then: delete`"
    order = 60
    rank = 1
    planned_phrase, done_phrase = "{n} to unarchive", "{n} unarchive{s} requested"

    @classmethod
    def build(cls, value, b, path):
        return ActionSpec(cls.name, UnarchiveParams((value or {}).get("then")))

    @classmethod
    def is_destructive(cls, params):
        return params.get("then") == "delete"

    @classmethod
    def storage_decision(cls, archived, spec, subject, tail):
        if not archived:
            return None
        then = spec.params.then
        return cls.name, ({"then": then} if then else {}), f"unarchive {subject}{tail}"

    @classmethod
    def display(cls, params):
        return "unarchive → delete" if params.get("then") == "delete" else cls.name

    @classmethod
    def details(cls, params, short=False):
        if params.get("then") == "delete" and not short:  # the table's action says so
            return "then delete, in a later run once it is available"
        return ""

    @classmethod
    def summary_note(cls, params):
        then_delete = sum(1 for p in params if p.get("then") == "delete")
        if not then_delete:
            return ""
        return " (then delete)" if then_delete == len(params) else f" ({then_delete} then delete)"


@actions.register("delete")
class Delete(_Storage):
    destructive = True
    description = ("Delete the data. Archived data is planned as `unarchive` with `then: delete`; "
                   "a later run deletes it once available. Needs allow_destructive: true.")
    order = 70
    marker = "!"
    planned_phrase, done_phrase = "{n} to delete", "{n} deleted"

    @classmethod
    def storage_decision(cls, archived, spec, subject, tail):
        if archived:  # two-phase: unarchive now, delete in a later run
            return (Unarchive.name, {"then": cls.name},
                    f"delete {subject}{tail}; it is archived, so it is unarchived now and deleted by a later run "
                    f"once available")
        return cls.name, {}, f"delete {subject}{tail}"


@actions.register("purge_trash")
class PurgeTrash(BaseAction):
    resource_kinds = frozenset({"bssh.trash"})
    destructive = True
    description = ("Empty the whole BaseSpace trash; planned only when the plan deletes something on "
                   "BaseSpace, after those deletes. Needs allow_destructive: true.")
    order = 80
    marker = "!"
    planned_phrase = done_phrase = "{n} trash purge{s}"

    @classmethod
    def plan_whole(cls, step, spec, actions):
        deletes = [a for a in actions if a.action == Delete.name and a.resource.kind in BSSH_DATA_KINDS]
        if not deletes:
            return None
        policy = step.policy
        return PlannedAction.create(
            policy=policy.name, group=policy.group or (policy.file.group if policy.file else ""),
            action=cls.name, resource=TRASH_REF, params={},
            reason=f"empty the whole BaseSpace trash after this plan's {len(deletes)} BaseSpace "
                   f"delete{'s' if len(deletes) != 1 else ''}",
            fingerprint=fingerprint({}), depends_on=[a.id for a in deletes])

    @classmethod
    def unneeded(cls, action, dependencies):
        if dependencies and all(r.outcome == Outcome.SKIPPED for r in dependencies):
            return "no BaseSpace delete was done in this apply"
        return None

    @classmethod
    def executor_for(cls, resource_kind):
        return executors.PURGE_TRASH
