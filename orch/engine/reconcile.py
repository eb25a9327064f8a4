"""Reconciliation: what the plan holds when several policies (or one twice) act on one resource.

Delete beats archive beats unarchive beats nothing; the same action with the same parameters is
planned once and says which policies it won over; it depends on what every merged copy depended on,
and dependencies on a merged action follow the winner;
archiving or deleting ICA data waits for this plan's hand-off of files under it; an action whose
dependency is not planned is not planned either (a note says so).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from orch.engine.kinds import kind
from orch.engine.plan import PlannedAction, is_destructive

DESTRUCTIVE_RANK = 1 << 10


def rank(a: PlannedAction) -> int:
    """Which lifecycle action wins on one resource: destructive > the kinds' ``rank`` (archive > unarchive)."""
    if is_destructive(a):
        return DESTRUCTIVE_RANK
    cls = kind(a.action)
    return cls.rank if cls is not None else 0


def _is(a: PlannedAction, attr: str) -> bool:
    """The action's kind has the flag ``attr`` (``lifecycle``, ``shares_storage``)."""
    cls = kind(a.action)
    return bool(cls is not None and getattr(cls, attr))


def _after_links(a: PlannedAction) -> bool:
    """Part of a hand-off that follows its links (manifest, the ledger record)."""
    cls = kind(a.action)
    return cls is not None and cls.analysis_phase > 1


def reconcile(actions: list[PlannedAction], order: Mapping[str, int], notes: list[str]) -> list[PlannedAction]:
    """The actions to plan. ``order``: policy name → load order (ties go to the policy loaded first);
    ``notes`` receives one line per action left out because something it depends on is not planned."""
    keep: list[PlannedAction] = []
    replaced: dict[str, str] = {}
    groups: dict[tuple, list[PlannedAction]] = {}
    for a in actions:
        if _is(a, "lifecycle"):
            key: tuple = ("lifecycle", a.resource.kind, a.resource.id)
        else:
            key = ("same", a.action, a.resource.kind, a.resource.id, _canon(a.params))
            if _is(a, "records_handoff"):  # a hand-off record belongs to its group: never merged across groups
                key += (a.group,)
        groups.setdefault(key, []).append(a)
    for items in groups.values():
        items.sort(key=lambda a: (-rank(a), order.get(a.policy, 1 << 30), a.id))
        winner, losers = items[0], items[1:]
        if losers:
            winner.won_over = sorted({*winner.won_over, *(x.policy for x in losers if x.policy != winner.policy)})
            # the merged action waits for everything each copy waited for: a mark_managed planned by two
            # hand-off policies is recorded only after both hand-offs succeeded
            winner.depends_on = sorted({*winner.depends_on, *(d for x in losers for d in x.depends_on)})
            for x in losers:
                replaced[x.id] = winner.id
        keep.append(winner)
    for a in keep:
        deps = {replaced.get(d, d) for d in a.depends_on}
        deps.discard(a.id)
        a.depends_on = sorted(deps)
    kept_ids = {a.id for a in keep}
    handoff_first(keep, notes)
    out = list(keep)
    dropped: set[str] = set()
    changed = True
    while changed:
        changed = False
        for a in list(out):
            if any(d in dropped or d not in kept_ids for d in a.depends_on):
                notes.append(f"{a.policy}: {a.action} of {a.resource.kind} {a.resource.label()} not "
                             f"planned: an action it depends on is not planned")
                out.remove(a)
                dropped.add(a.id)
                changed = True
    return out


def handoff_first(actions: list[PlannedAction], notes: list[str] | None = None) -> None:
    """Archiving or deleting ICA data that this plan also hands off waits for the hand-off.

    Links into another project share the source's storage, so an archive or delete that ran first
    would make the links stale (or hand off data nobody can read). The lifecycle action depends on
    the links of files at or under its path and on the actions that depend on those links
    (manifest, mark_managed); if the hand-off fails, the lifecycle action is not run.
    """
    links = [a for a in actions if _is(a, "shares_storage") and a.resource.kind == "ica.data" and a.resource.path]
    if not links:
        return
    for a in actions:
        if not _is(a, "lifecycle") or a.resource.kind != "ica.data" or not a.resource.path:
            continue
        path = a.resource.path
        under = {x.id for x in links if x.resource.project_id == a.resource.project_id
                 and (x.resource.path == path or (path.endswith("/") and x.resource.path.startswith(path)))}
        if not under:
            continue
        after = under | {x.id for x in actions if _after_links(x) and under & set(x.depends_on)}
        if after <= set(a.depends_on):
            continue  # already waits for them (reconcile runs again after the trash step: say it once)
        a.depends_on = sorted(set(a.depends_on) | after)
        if notes is not None:  # legal, but worth a look: the recipients' links point at this very data
            notes.append(f"{a.policy}: {a.action} of {a.resource.label()} runs after this plan hands off "
                         f"{len(under)} file(s) under it; the links share its storage, so the recipients "
                         f"lose them too (a hand-off age limit above the archive age does this)")


def _canon(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)
