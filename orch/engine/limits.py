"""Safety rules the planner and the applier both enforce.

- ``max_resources``: a policy whose selection exceeds its count or its percent of the
  matched population plans nothing, and the plan carries an error (exit 1).
- ``protect``: a global list of names, paths, ids and tags no action may touch.
- destructive actions (delete, purge_trash, unarchive with ``then: delete``) only from
  policies that say ``allow_destructive: true``.
- scope: an action is planned only on resources of the file's projects.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from orch.engine.plan import PlannedAction, is_destructive
from orch.policy.model import Limits, Policy


class LimitExceeded(Exception):
    """A policy selected more resources than its ``max_resources`` allows (message: one sentence)."""


def check_max_resources(policy: Policy, selected: int, population: int) -> None:
    """Raise LimitExceeded when ``selected`` resources exceed the policy's limits.

    ``population`` is the number of resources the policy considered (before its filters);
    ``percent`` is of that population (0 selected of 0 is always fine).
    """
    limits: Limits = policy.limits or Limits()
    if limits.max_count is not None and selected > limits.max_count:
        raise LimitExceeded(
            f"selected {selected} resources, more than its max_resources count of {limits.max_count}; "
            f"nothing from this policy is planned")
    if limits.max_percent is not None and population and selected * 100 > limits.max_percent * population:
        share = 100.0 * selected / population
        raise LimitExceeded(
            f"selected {selected} of {population} resources ({share:.0f}%), more than its max_resources "
            f"percent of {limits.max_percent:g}%; nothing from this policy is planned")


@dataclass
class Protect:
    """Resources no action may touch. Names and paths are fnmatch globs (a path without glob
    characters also protects everything under it when it ends with ``/``); ids are exact;
    tags match ICA user/technical tags of the resource."""

    names: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "Protect":
        data = data or {}
        return cls(names=[str(x) for x in data.get("names", [])], paths=[str(x) for x in data.get("paths", [])],
                   ids=[str(x) for x in data.get("ids", [])], tags=[str(x) for x in data.get("tags", [])])

    def merge(self, other: "Protect") -> "Protect":
        return Protect(sorted({*self.names, *other.names}), sorted({*self.paths, *other.paths}),
                       sorted({*self.ids, *other.ids}), sorted({*self.tags, *other.tags}))

    def __bool__(self) -> bool:
        return bool(self.names or self.paths or self.ids or self.tags)

    def why(self, resource: Mapping[str, Any], tags: Iterable[str] = ()) -> str | None:
        """Why the resource (a plan ``resource`` dict) is protected, or None."""
        rid = str(resource.get("id", ""))
        if rid and rid in self.ids:
            return f"its id {rid} is on the protect list"
        name = str(resource.get("name") or "")
        for pattern in self.names:
            if name and fnmatch.fnmatchcase(name, pattern):
                return f"its name {name!r} matches protect name {pattern!r}"
        path = str(resource.get("path") or "")
        for pattern in self.paths:
            if path and (fnmatch.fnmatchcase(path, pattern) or (pattern.endswith("/") and path.startswith(pattern))
                         or path == pattern):
                return f"its path {path!r} matches protect path {pattern!r}"
        # a folder that contains a protected path is protected too (deleting it would delete them)
        if path.endswith("/"):
            for pattern in self.paths:
                if pattern.startswith(path):
                    return f"it contains the protected path {pattern!r}"
        for tag in tags:
            if tag in self.tags:
                return f"it carries the protected tag {tag!r}"
        return None


def resource_tags(raw: Mapping[str, Any] | None) -> list[str]:
    """ICA user and technical tags of a resource's API JSON (analysis or project data)."""
    if not raw:
        return []
    holder = raw.get("data", {}).get("details", raw) if isinstance(raw.get("data"), dict) else raw
    tags = holder.get("tags") or {}
    out: list[str] = []
    if isinstance(tags, dict):
        for key in ("userTags", "technicalTags"):
            out.extend(str(t) for t in tags.get(key) or [])
    return out


def destructive_refusal(action: PlannedAction, policy_allows: bool | None) -> str | None:
    """Why a destructive action must be refused (None when it may run)."""
    if not is_destructive(action):
        return None
    if policy_allows is None:
        return f"policy {action.policy!r} is not among the loaded policies (or its file changed since the plan)"
    if not policy_allows:
        return f"policy {action.policy!r} does not allow destructive actions (allow_destructive: false)"
    return None
