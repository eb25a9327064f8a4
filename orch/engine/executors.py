"""One executor per action kind: re-read, compare, detect already-done, act.

Every executor first re-reads the resource. Already done (linked, manifest present, archived,
deleted, ledger entry present) → ``skipped``; the resource no longer matches the plan's
fingerprint → ``refused-stale``; otherwise it acts through the connector → ``done`` or
``failed`` with the platform's reason. Batchable kinds (links of one destination, BaseSpace
archive and restore) act in one call for the whole batch and still report per action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Hashable

from orch.connectors.base import BasespaceApi, IcaApi

if TYPE_CHECKING:
    from orch.engine.ledger import Ledger
from orch.engine.fingerprint import decision_fingerprint
from orch.engine.kinds import need
from orch.engine.manifest import ManifestPlan, render_manifest
from orch.engine.plan import ActionResult, Outcome, PlannedAction
from orch.errors import Conflict, ConfigError, NotFound, OrchError
from orch.inventory import Resource
from orch.vocab import BSSH_DATA_KINDS, ICA_IN_EFFECT, IN_TRANSIT


@dataclass
class ApplyContext:
    ica: IcaApi | None
    bssh: BasespaceApi | None
    ledger: "Ledger | None"
    now: datetime

    def need_ica(self) -> IcaApi:
        if self.ica is None:
            raise ConfigError("this action needs ICA, but no ICA connection is configured")
        return self.ica

    def need_bssh(self) -> BasespaceApi:
        if self.bssh is None:
            raise ConfigError("this action needs BaseSpace, but no BaseSpace connection is configured")
        return self.bssh

    def fresh(self) -> None:
        """Forget reads cached by the connectors (apply must see the platforms as they are now)."""
        for client in (self.ica, self.bssh):
            clear = getattr(client, "clear_cache", None)
            if clear:
                clear()


def result(action: PlannedAction, outcome: Outcome, message: str = "") -> ActionResult:
    return ActionResult(action, outcome, message)


# ---------------------------------------------------------------- re-reading
def reread(action: PlannedAction, ctx: ApplyContext) -> Resource | None:
    """The resource as it is now; None when it no longer exists."""
    r = action.resource
    try:
        if r.kind == "ica.data":
            return ctx.need_ica().get_data(r.project_id, r.id)
        if r.kind == "ica.analysis":
            return ctx.need_ica().get_analysis(r.project_id, r.id)
        if r.kind == "bssh.dataset":
            d = ctx.need_bssh().get_dataset(r.id)
            return None if d.is_deleted else d
        if r.kind == "bssh.run":
            run = ctx.need_bssh().get_run(r.id)
            return None if run.is_deleted else run
    except NotFound:
        return None
    raise ConfigError(f"cannot re-read a {r.kind} resource")


#: fields of the plan's resource snapshot that must still hold at apply time, whatever the fingerprint covers
SNAPSHOT_FIELDS = ("status", "is_archived", "path", "name")


def stale(action: PlannedAction, current: Resource) -> str | None:
    """Why ``current`` no longer matches the plan (None when it matches).

    Two checks: the fingerprint over ``fingerprint_fields`` (the fields the decision used), and the
    plan's own snapshot of the resource (status, archive state, path, name), which also guards a
    plan without ``fingerprint_fields`` (section 2 does not require them) and a hand-edited one.
    """
    if action.fingerprint_fields:
        if decision_fingerprint(current, action.fingerprint_fields) != action.fingerprint:
            changed = ", ".join(action.fingerprint_fields)
            return f"the resource changed since the plan (one of: {changed}); plan again"
    planned, now = action.resource.to_dict(), current.ref()
    for key in SNAPSHOT_FIELDS:
        if key in planned and key in now and planned[key] != now[key]:
            return f"its {key} is {now[key]!r} now, {planned[key]!r} in the plan; plan again"
    return None


# ---------------------------------------------------------------- executors
class Executor:
    """Runs one kind of action. ``batch_key`` groups actions that act in one platform call."""

    def batch_key(self, action: PlannedAction) -> Hashable | None:
        return None

    def run(self, actions: list[PlannedAction], ctx: ApplyContext) -> list[ActionResult]:
        """``run_one`` per action; a platform error fails that action only."""
        out = []
        for a in actions:
            try:
                out.append(self.run_one(a, ctx))
            except OrchError as exc:
                out.append(result(a, Outcome.FAILED, str(exc)))
        return out

    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:  # pragma: no cover
        raise NotImplementedError


class LinkExecutor(Executor):
    """All links into one destination project in one dataLinkingBatch."""

    def batch_key(self, action: PlannedAction) -> Hashable:
        return ("link", action.params.get("to_project_id"))

    def run(self, actions: list[PlannedAction], ctx: ApplyContext) -> list[ActionResult]:
        out: dict[str, ActionResult] = {}
        try:
            ica = ctx.need_ica()
            dest = actions[0].params["to_project_id"]
            current: dict[str, Any] = {}
            by_project: dict[str, list[str]] = {}
            for a in actions:
                by_project.setdefault(a.resource.project_id, []).append(a.resource.id)
            for pid, ids in by_project.items():
                current.update({d.id: d for d in ica.list_data(pid, ids=ids)})
            present = {d.id for d in ica.list_data(dest, ids=[a.resource.id for a in actions])}
            todo: list[PlannedAction] = []
            for a in actions:
                if a.resource.id in present:
                    out[a.id] = result(a, Outcome.SKIPPED, f"already linked into {a.params.get('to_project', dest)}")
                elif a.resource.id not in current:
                    out[a.id] = result(a, Outcome.REFUSED_STALE, "the file no longer exists")
                elif why := stale(a, current[a.resource.id]):
                    out[a.id] = result(a, Outcome.REFUSED_STALE, why)
                else:
                    todo.append(a)
            if todo:
                got = {r.data_id: r for r in ica.link(dest, [a.resource.id for a in todo])}
                for a in todo:
                    r = got.get(a.resource.id)
                    if r is None:
                        out[a.id] = result(a, Outcome.FAILED, "the linking batch reported nothing for this file")
                    elif r.ok and "already" in (r.message or "").lower():
                        out[a.id] = result(a, Outcome.SKIPPED, r.message)
                    elif r.ok:
                        out[a.id] = result(a, Outcome.DONE, f"linked into {a.params.get('to_project', dest)}")
                    else:
                        out[a.id] = result(a, Outcome.FAILED, r.message or "the link failed")
        except OrchError as exc:
            for a in actions:
                out.setdefault(a.id, result(a, Outcome.FAILED, str(exc)))
        return [out[a.id] for a in actions]


class ManifestExecutor(Executor):
    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:
        ica = ctx.need_ica()
        m = ManifestPlan.from_params(action.params)
        dest, path, folder, name = m.to_project_id, m.path, m.folder, m.name
        analysis = reread(action, ctx)
        if analysis is None:
            return result(action, Outcome.REFUSED_STALE, "the analysis no longer exists")
        if why := stale(action, analysis):
            return result(action, Outcome.REFUSED_STALE, why)
        content = render_manifest(m)
        target = _existing(ica, dest, path)
        if target is not None and target.status != "PARTIAL":
            return result(action, Outcome.SKIPPED, f"a file already exists at {path}")
        if target is None:
            try:
                target = ica.create_file(dest, folder, name)
            except Conflict:
                target = _existing(ica, dest, path)
                if target is None or target.status != "PARTIAL":
                    return result(action, Outcome.SKIPPED, f"a file already exists at {path}")
        ica.upload_bytes(dest, target.id, content)
        return result(action, Outcome.DONE, f"wrote {path} ({m.rows} rows, {len(content)} bytes)")


def _existing(ica: IcaApi, project_id: str, path: str):
    found = [d for d in ica.list_data(project_id, full_path=path) if d.path == path]
    return found[0] if found else None


class MarkManagedExecutor(Executor):
    """Done here means "record it": the applier's ledger.record writes the entry atomically
    with the audit row, and only runs this after every dependency succeeded."""

    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:
        if ctx.ledger is not None and ctx.ledger.is_managed(action.resource.id, group=action.group):
            return result(action, Outcome.SKIPPED, "already recorded in the ledger")
        analysis = reread(action, ctx)
        if analysis is None:
            return result(action, Outcome.REFUSED_STALE, "the analysis no longer exists")
        if why := stale(action, analysis):
            return result(action, Outcome.REFUSED_STALE, why)
        return result(action, Outcome.DONE, "recorded in the ledger")


#: the status ICA data must have for each lifecycle action (two-phase delete: ARCHIVED is unarchived first)
NEEDS = {"archive": frozenset({"AVAILABLE"}), "unarchive": frozenset({"ARCHIVED"}),
         "delete": frozenset({"AVAILABLE"})}


class IcaDataExecutor(Executor):
    """archive / unarchive / delete of ICA data (one call each; ICA has no batch for these)."""

    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:
        ica = ctx.need_ica()
        r = action.resource
        current = reread(action, ctx)
        kind = action.action
        if current is None:
            if kind == "delete":
                return result(action, Outcome.SKIPPED, "already deleted")
            return result(action, Outcome.REFUSED_STALE, "the data no longer exists")
        owner = getattr(current, "owning_project_id", "")
        if owner and owner != r.project_id:  # acting through a link would act on the owner's data
            return result(action, Outcome.REFUSED, f"it is linked in from project {owner}; orch archives and "
                                                   f"deletes ICA data only in the project that owns it")
        status = getattr(current, "status", "")
        if status in ICA_IN_EFFECT[kind]:
            return result(action, Outcome.SKIPPED, f"already {status.lower()}")
        if why := stale(action, current):
            return result(action, Outcome.REFUSED_STALE, why)
        if status in IN_TRANSIT:
            return result(action, Outcome.REFUSED_STALE, f"the data is {status} (in transit); plan again later")
        if status not in NEEDS[kind]:  # whatever the plan says: never delete archived data in one step
            return result(action, Outcome.REFUSED_STALE, f"the data is {status}; {kind} needs it "
                                                         f"{' or '.join(sorted(NEEDS[kind]))}; plan again")
        verb = {"archive": ica.archive, "unarchive": ica.unarchive, "delete": ica.delete}[kind]
        verb(r.project_id, r.id)
        if kind == "unarchive" and action.params.get("then") == "delete":
            return result(action, Outcome.DONE, "unarchive requested; a later run deletes it once available")
        return result(action, Outcome.DONE, {"archive": "archive requested", "unarchive": "unarchive requested",
                                             "delete": "delete requested"}[kind])


def orch_requests(ctx: ApplyContext) -> dict[str, str] | None:
    """BaseSpace shows no archive/restore in flight (IsArchived flips when done): what orch itself asked
    for recently, from the ledger (id -> "archive" / "unarchive"); None without a ledger."""
    return ctx.ledger.bssh_requests(ctx.now) if ctx.ledger is not None else None


class BsshBulkExecutor(Executor):
    """BaseSpace archive / restore: one bulk call for every dataset and run of the batch."""

    def batch_key(self, action: PlannedAction) -> Hashable:
        return ("bssh", action.action)

    def run(self, actions: list[PlannedAction], ctx: ApplyContext) -> list[ActionResult]:
        out: dict[str, ActionResult] = {}
        todo: list[PlannedAction] = []
        requested = orch_requests(ctx)
        for a in actions:
            try:
                current = reread(a, ctx)
            except OrchError as exc:
                out[a.id] = result(a, Outcome.FAILED, str(exc))
                continue
            if current is None:
                out[a.id] = result(a, Outcome.REFUSED_STALE, "it no longer exists")
                continue
            archived = bool(getattr(current, "is_archived", False))  # BaseSpace shows no work in flight
            if a.action == "archive" and archived:
                out[a.id] = result(a, Outcome.SKIPPED, "already archived")
            elif a.action == "unarchive" and not archived:
                out[a.id] = result(a, Outcome.SKIPPED, "already restored")
            elif requested is not None and requested.get(a.resource.id) == a.action:
                out[a.id] = result(a, Outcome.SKIPPED, f"{'archive' if a.action == 'archive' else 'restore'} "
                                                       f"already requested by orch, still in progress")
            elif why := stale(a, current):
                out[a.id] = result(a, Outcome.REFUSED_STALE, why)
            else:
                todo.append(a)
        if todo:
            try:
                bssh = ctx.need_bssh()
                call = bssh.archive if actions[0].action == "archive" else bssh.restore
                per_item = {(r.kind, r.id): r for r in call(
                    dataset_ids=[a.resource.id for a in todo if a.resource.kind == "bssh.dataset"],
                    run_ids=[a.resource.id for a in todo if a.resource.kind == "bssh.run"]) or ()}
                for a in todo:
                    got = per_item.get((a.resource.kind.removeprefix("bssh."), a.resource.id))
                    if got is not None and not got.ok:  # refused alone (the connector re-read the batch)
                        out[a.id] = result(a, Outcome.FAILED, got.message)
                        continue
                    msg = "archive requested" if a.action == "archive" else "restore requested"
                    if a.params.get("then") == "delete":
                        msg += "; a later run deletes it once restored"
                    out[a.id] = result(a, Outcome.DONE, msg)
            except OrchError as exc:
                for a in todo:
                    out[a.id] = result(a, Outcome.FAILED, str(exc))
        return [out[a.id] for a in actions]


class BsshDeleteExecutor(Executor):
    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:
        current = reread(action, ctx)
        if current is None:
            return result(action, Outcome.SKIPPED, "already deleted")
        if why := stale(action, current):
            return result(action, Outcome.REFUSED_STALE, why)
        if getattr(current, "is_archived", False):
            return result(action, Outcome.REFUSED_STALE, "it is archived; plan again "
                                                         "(archived data is restored first)")
        if (orch_requests(ctx) or {}).get(action.resource.id) == "archive":
            return result(action, Outcome.REFUSED_STALE, "an archive orch requested is still in progress "
                                                         "(in transit); plan again later")
        bssh = ctx.need_bssh()
        if action.resource.kind == "bssh.dataset":
            delete_dataset_recording_route(bssh, ctx.ledger, action.resource.id)
        else:
            bssh.delete_run(action.resource.id)
        return result(action, Outcome.DONE, "moved to the BaseSpace trash")


def delete_dataset_recording_route(bssh: BasespaceApi, ledger: Any, dataset_id: str) -> None:
    """Delete by the (unverified) dataset route and record what that showed: confirmed after a success,
    unavailable when the server does not know the route (issue 9.2)."""
    from orch.connectors import route_state
    from orch.connectors.base import RouteUnavailable

    route = route_state.dataset_delete_route(bssh)
    account = route_state.bssh_account(bssh)
    try:
        bssh.delete_dataset(dataset_id)
    except RouteUnavailable as exc:
        if exc.status is not None:  # the first refusal (later ones were not sent)
            route_state.put(ledger, account, route, route_state.UNAVAILABLE, str(exc))
        raise
    if route_state.get(ledger, account, route) != route_state.CONFIRMED:
        route_state.put(ledger, account, route, route_state.CONFIRMED, f"deleted dataset {dataset_id}")


class PurgeTrashExecutor(Executor):
    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:
        ctx.need_bssh().empty_trash()
        return result(action, Outcome.DONE, "BaseSpace trash emptied")


class TagExecutor(Executor):
    """Add user tags to an ICA analysis or file/folder; skipped when every tag is already there."""

    def run_one(self, action: PlannedAction, ctx: ApplyContext) -> ActionResult:
        ica = ctx.need_ica()
        r = action.resource
        wanted = list(action.params.get("user_tags") or [])
        current = reread(action, ctx)
        if current is None:
            return result(action, Outcome.REFUSED_STALE, "the resource no longer exists")
        if not set(wanted) - set(current.user_tags):
            return result(action, Outcome.SKIPPED, "already tagged with " + ", ".join(wanted))
        if why := stale(action, current):
            return result(action, Outcome.REFUSED_STALE, why)
        add = ica.add_analysis_user_tags if r.kind == "ica.analysis" else ica.add_data_user_tags
        added = add(r.project_id, r.id, wanted)
        if not added:  # tagged by someone else between the re-read and the write
            return result(action, Outcome.SKIPPED, "already tagged with " + ", ".join(wanted))
        return result(action, Outcome.DONE, "tagged with " + ", ".join(added))


# One instance per executor; the action classes name theirs (``BaseAction.executor_for``).
LINK = LinkExecutor()
MANIFEST = ManifestExecutor()
MARK_MANAGED = MarkManagedExecutor()
TAG = TagExecutor()
PURGE_TRASH = PurgeTrashExecutor()
ICA_DATA = IcaDataExecutor()
BSSH_BULK = BsshBulkExecutor()
BSSH_DELETE = BsshDeleteExecutor()


def storage_executor(action: str, resource_kind: str) -> Executor:
    """archive / unarchive / delete: ICA data one call each; BaseSpace archive and restore in bulk."""
    if resource_kind == "ica.data":
        return ICA_DATA
    if resource_kind in BSSH_DATA_KINDS:
        return BSSH_DELETE if action == "delete" else BSSH_BULK
    raise ConfigError(f"no executor for {action} on {resource_kind}")


def executor_for(action: PlannedAction) -> Executor:
    """The executor the action's kind names for its resource kind."""
    return need(action.action).executor_for(action.resource.kind)
