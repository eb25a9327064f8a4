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
from orch.inventory import Resource
from orch.vocab import GLOB_CHARS
from orch.policy.model import Limits, Policy, ProtectList


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


PROTECT_KEYS = ("names", "paths", "ids", "tags")


@dataclass
class Protect(ProtectList):
    """Resources no action may touch: the union of the loaded files' ``protect:`` lists.

    - names: fnmatch globs on the resource's base name (``name``: file or folder name, dataset or
      run name, analysis reference); case-sensitive.
    - paths: a path protects itself and everything under it (``/a/KEEP`` and ``/a/KEEP/`` are
      the same); with glob characters, a path protects what the glob matches and everything under
      it. A folder that contains a protected path is protected too (deleting or archiving it
      would take the protected data with it); for globs this is decided from the glob's literal
      start, so it errs on the side of protecting.
    - ids: exact; tags: exact ICA user or technical tags of the resource.
    - archive, unarchive and delete of an ICA folder act on everything under it, so a folder holding
      anything protected by name, id or tag is protected too (``why_inside``: the planner and the
      applier list the folder to check; a listing that fails refuses the action).

    ``origins`` maps ``(key, entry)`` to the files that listed it, for the messages.
    """

    # names, paths, ids, tags and ``__bool__``: ProtectList (one list class for the policy model and the rules)
    origins: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, origin: str | None = None) -> "Protect":
        data = data or {}
        p = cls(**{k: [str(x) for x in data.get(k) or []] for k in PROTECT_KEYS})
        if origin:
            p.origins = {(k, v): [origin] for k in PROTECT_KEYS for v in getattr(p, k)}
        return p

    @classmethod
    def from_files(cls, files: Iterable[Any]) -> "Protect":
        """The union of the ``protect`` lists (``PolicyFile.protect``) of policy files."""
        out = cls()
        for pf in files:
            lst: ProtectList | None = getattr(pf, "protect", None)
            if lst:
                p = cls(*(list(getattr(lst, k)) for k in PROTECT_KEYS))
                p.origins = {(k, v): [pf.path] for k in PROTECT_KEYS for v in getattr(p, k)}
                out = out.merge(p)
        return out

    def merge(self, other: "Protect") -> "Protect":
        merged = Protect(*(sorted({*getattr(self, k), *getattr(other, k)}) for k in PROTECT_KEYS))
        for src in (self.origins, other.origins):
            for key, files in src.items():
                merged.origins[key] = sorted({*merged.origins.get(key, []), *files})
        return merged

    @property
    def reaches_inside(self) -> bool:
        """Entries a folder's path alone cannot rule out (names, ids, tags): checking an action on a
        folder against them needs a listing of what is under it."""
        return bool(self.names or self.ids or self.tags)

    def why_inside(self, folder_path: str, contents: Iterable[Any]) -> str | None:
        """Why acting on the folder would touch protected contents (``contents``: IcaData below it)."""
        for d in sorted(contents, key=lambda d: d.path):
            if d.path == folder_path:
                continue
            why = self.why(d.ref(), d.tags)
            if why:
                return f"the folder contains {d.path}, which is protected ({why})"
        return None

    def _by(self, key: str, entry: str) -> str:
        files = self.origins.get((key, entry))
        return f" (protect.{key} of {', '.join(files)})" if files else ""

    def why(self, resource: Mapping[str, Any], tags: Iterable[str] = ()) -> str | None:
        """Why the resource (a plan ``resource`` dict) is protected, or None."""
        rid = str(resource.get("id", ""))
        if rid and rid in self.ids:
            return f"its id {rid} is on the protect list{self._by('ids', rid)}"
        name = str(resource.get("name") or "")
        for pattern in self.names:
            if name and fnmatch.fnmatchcase(name, pattern):
                return f"its name {name!r} matches protect name {pattern!r}{self._by('names', pattern)}"
        path = str(resource.get("path") or "")
        if path:
            for pattern in self.paths:
                if path_protected(path, pattern):
                    return f"its path {path!r} is protected by {pattern!r}{self._by('paths', pattern)}"
            if path.endswith("/"):
                for pattern in self.paths:
                    if folder_may_contain(path, pattern):
                        return (f"the folder contains the protected path {pattern!r}{self._by('paths', pattern)} "
                                f"(acting on it would act on that too)")
        for tag in tags:
            if tag in self.tags:
                return f"it carries the protected tag {tag!r}{self._by('tags', tag)}"
        return None


def _has_glob(text: str) -> bool:
    return any(c in text for c in GLOB_CHARS)


def _self_and_ancestors(path: str) -> list[str]:
    """``/a/b/c.txt`` → ``/a/b/c.txt``, ``/a/b``, ``/a``, ``/`` (no trailing slashes)."""
    out = []
    p = path.rstrip("/")
    while p:
        out.append(p)
        p = p.rsplit("/", 1)[0]
    out.append("/")
    return out


def path_protected(path: str, pattern: str) -> bool:
    """The path, or a folder above it, is the protected path (or matches the protected glob)."""
    pat = pattern.rstrip("/") or "/"
    glob = _has_glob(pat)
    return any(fnmatch.fnmatchcase(c, pat) if glob else c == pat for c in _self_and_ancestors(path))


def folder_may_contain(folder: str, pattern: str) -> bool:
    """The folder holds (or, for a glob, may hold) something the protected path covers."""
    f = folder.rstrip("/") + "/"
    if not _has_glob(pattern):
        return (pattern.rstrip("/") + "/").startswith(f)
    literal = pattern[:min(pattern.index(c) for c in GLOB_CHARS if c in pattern)]
    return literal.startswith(f) or f.startswith(literal)


def destructive_refusal(action: PlannedAction, policy_allows: bool | None) -> str | None:
    """Why a destructive action must be refused (None when it may run)."""
    if not is_destructive(action):
        return None
    if policy_allows is None:
        return f"policy {action.policy!r} is not among the loaded policies (or its file changed since the plan)"
    if not policy_allows:
        return f"policy {action.policy!r} does not allow destructive actions (allow_destructive: false)"
    return None
