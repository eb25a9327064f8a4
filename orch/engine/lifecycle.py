"""The storage lifecycle step shared by archive, unarchive and delete (their classes decide the verb).

Common rules: ICA data is archived or deleted only in the project that owns it; data whose storage
change is in flight (ICA status, or a BaseSpace request orch made recently) is left alone; a
BaseSpace run is acted on only once it is finished; an ICA folder holding protected data is not
acted on (``PolicyStep.folder_clear``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orch.connectors import route_state
from orch.connectors.routes import DATASET_DELETE_ENV, declared_confirmed
from orch.engine.plan import PlannedAction
from orch.engine.reasons import age_note, describe, label
from orch.engine.step import Candidate, PolicyStep
from orch.inventory import BsshDataset, BsshRun, IcaData, Resource
from orch.registry import ActionSpec, Matcher
from orch.vocab import IN_TRANSIT, TERMINAL_RUN

if TYPE_CHECKING:
    from orch.actions.base import BaseAction


def storage_state(r: Resource) -> tuple[bool, bool, str]:
    """(archived, in transit, status text) of data, a dataset or a run."""
    if isinstance(r, IcaData):
        return r.status == "ARCHIVED", r.status in IN_TRANSIT, r.status
    if isinstance(r, (BsshDataset, BsshRun)):
        return r.is_archived, False, "archived" if r.is_archived else "available"
    return False, False, ""


def bssh_requested(step: PolicyStep, r: BsshDataset | BsshRun) -> tuple[bool, str]:
    """BaseSpace shows no archive work in flight (only ``IsArchived``, which flips when the work
    completes): an archive or restore orch requested within ``BSSH_ASYNC_WINDOW`` whose result is not
    visible yet is in transit, so the next run neither repeats it nor plans around it. Older requests
    are retried. Without that memory (a fresh ledger) ``IsArchived`` alone decides: an archived object
    is restored (again, harmlessly) before any delete, never deleted."""
    latest = step.planner.bssh_inflight().get(r.id)
    if r.is_archived and latest == "unarchive":
        return True, "restore requested by orch"
    if latest == "archive":  # IsArchived is true from the request on; a restore is refused until it completes
        return True, "archive requested by orch"
    return False, ""


def bssh_ineligible(r: BsshDataset | BsshRun) -> str:
    """Why BaseSpace acts on this dataset/run no more (documented fields only), or ""."""
    if r.raw.get("IsDeleted"):
        return "it is deleted (in the BaseSpace trash)"
    if r.raw.get("IsFileDataDeleted"):
        return "its files are deleted (IsFileDataDeleted); BaseSpace archives and restores no such item"
    return ""


def delete_route_guard(step: PolicyStep, action: str, params: dict) -> str:
    """BaseSpace's dataset delete route is unverified: no restore is paid for a delete until a delete by
    it has succeeded on this account (ledger), and nothing is deleted by it once it proved unavailable."""
    if action not in ("delete", "unarchive") or (action == "unarchive" and params.get("then") != "delete"):
        return ""
    bssh = step.ctx.bssh
    route = route_state.dataset_delete_route(bssh)
    declared = getattr(bssh, "confirmed_routes", None)
    state = route_state.get(step.ctx.ledger, route_state.bssh_account(bssh), route,
                            declared_confirmed() if declared is None else declared)
    if state == route_state.UNAVAILABLE:
        return (f"the delete route {route} is unavailable on this account (the server did not know it); "
                f"set the working one in {DATASET_DELETE_ENV} and check it with orch doctor")
    if action == "unarchive" and state != route_state.CONFIRMED:
        return f"delete route unconfirmed: not restored ({route} has not yet deleted a dataset on this account)"
    return ""


def subject_and_tail(step: PolicyStep, c: Candidate, filters: list[Matcher]) -> tuple[str, str]:
    """What the reason names (``c.via`` or the resource) and what follows it (conditions, ages)."""
    conds = describe(filters)
    age = age_note(filters, c.resource, step.ctx.now)
    return f"{c.via or label(c.resource)}", (f"; {conds}" if conds else "") + (f" ({age})" if age else "")


def plan_storage(cls: "type[BaseAction]", step: PolicyStep, spec: ActionSpec, c: Candidate,
                 filters: list[Matcher]) -> PlannedAction | None:
    """The lifecycle action ``cls`` plans for one candidate (``cls.storage_decision`` picks the verb)."""
    r = c.resource
    name = spec.name
    subject, tail = subject_and_tail(step, c, filters)
    if isinstance(r, IcaData) and r.owning_project_id and r.owning_project_id != r.project_id:
        step.note(f"{name} of {label(r)} not planned: it is linked in from project {r.owning_project_id}; "
                  f"orch archives and deletes ICA data only in the project that owns it")
        return None
    if isinstance(r, (BsshDataset, BsshRun)) and (why := bssh_ineligible(r)):
        step.note(f"{name} of {r.kind} {label(r)} not planned: {why}")
        return None
    archived, transit, status = storage_state(r)
    if isinstance(r, (BsshDataset, BsshRun)):
        transit, status = bssh_requested(step, r)
    if transit:
        step.in_transit(f"{label(r)} ({status})")
        return None
    if isinstance(r, BsshRun) and r.status not in TERMINAL_RUN:
        step.note(f"run {r.name} is {r.status}; only Complete, Stopped or Failed runs are archived or deleted")
        return None
    decided = cls.storage_decision(archived, spec, subject, tail)
    if decided is None:
        return None
    action, params, reason = decided
    if isinstance(r, BsshDataset) and (why := delete_route_guard(step, action, params)):
        step.note(f"{name} of {r.kind} {label(r)} not planned: {why}")
        return None
    if not step.folder_clear(action, r):
        return None
    return step.make(action, r, params, filters, reason, reached_from=c.reached_from)
