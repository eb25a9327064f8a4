"""``orch lint``: every problem of the given policy files, without network or credentials."""

from __future__ import annotations

from typing import Iterable

from orch.policy.loader import build_files
from orch.policy.problems import Problem

__all__ = ["Problem", "lint_paths"]


def lint_paths(paths: Iterable[str]) -> list[Problem]:
    """Problems sorted by path, line and column (empty when every file is clean).

    Variables take their defaults, so regexes and templates are checked as they render by default.
    """
    _files, problems = build_files(paths, None)
    return problems
