"""Typed policy objects, after variables are resolved and templates rendered.

This is the contract between the policy package (which builds these from YAML) and the
engine (which plans from them). See docs/policy-language.md for the YAML grammar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orch.registry import ActionSpec, Matcher


@dataclass(frozen=True)
class Position:
    path: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass
class Scope:
    """Which projects a file's policies may touch. Nothing outside is ever planned."""

    ica_projects: list[str] = field(default_factory=list)  # names
    bssh_projects: list[str] = field(default_factory=list)  # names
    # BaseSpace projects named by bsshoutput.json of analyses in the ICA scope are in scope.
    bssh_from_bsshoutput: bool = False


@dataclass
class AnalysisQuery:
    """Analyses of one ICA project filtered by matchers (used by ``from``)."""

    project: str  # ICA project name
    filters: list[Matcher] = field(default_factory=list)


@dataclass
class Source:
    """``from:`` — derive the policy's resources from analyses through a relation.

    via: ``outputs`` (files under the analysis output folder, recursive), ``output_folder``
    (the output folder itself), ``bsshoutput_projects`` (datasets of the BaseSpace projects
    its bsshoutput.json names), ``run`` (the BaseSpace run whose Name is its run folder).
    """

    analyses: AnalysisQuery
    via: str


@dataclass
class ForEach:
    """``for_each:`` — per-analysis selection of related resources (today: outputs)."""

    relation: str  # "outputs"
    recursive: bool = True
    filters: list[Matcher] = field(default_factory=list)


@dataclass
class Limits:
    max_count: int | None = None
    max_percent: float | None = None  # of the matched population, 0-100


@dataclass
class Policy:
    name: str
    description: str
    resource: str  # ica.analysis | ica.data | bssh.dataset | bssh.run | bssh.trash
    group: str
    enabled: bool
    project: str | None  # ICA project name for ica.* resources (None when `from` gives them)
    source: Source | None
    filters: list[Matcher]
    for_each: ForEach | None
    actions: list[ActionSpec]
    limits: Limits
    allow_destructive: bool  # delete/purge_trash only when true
    file: "PolicyFile" = field(repr=False, default=None)  # type: ignore[assignment]
    pos: Position | None = None


@dataclass
class ProtectList:
    """``protect:`` — resources no action of any loaded policy may touch (rendered, as written).

    names: globs on the base name; paths: a path protects itself and everything under it (globs
    allowed), and a folder that contains a protected path is protected too; ids: exact; tags: ICA
    user/technical tags. Matching lives in orch/engine/limits.py (``Protect``).
    """

    names: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.names or self.paths or self.ids or self.tags)


@dataclass
class PolicyFile:
    path: str
    sha256: str
    version: int
    group: str
    vars: dict[str, Any]  # resolved: defaults overridden by --var
    scope: Scope
    policies: list[Policy]
    protect: ProtectList = field(default_factory=ProtectList)  # applies to every loaded file's policies


@dataclass
class PolicySet:
    files: list[PolicyFile]

    @property
    def policies(self) -> list[Policy]:
        return [p for f in self.files for p in f.policies]

    @property
    def vars(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for f in self.files:
            merged.update(f.vars)
        return merged
