"""``load_policies``: policy files or folders → a typed ``PolicySet`` (or PolicyError)."""

from __future__ import annotations

import os
from typing import Iterable

from orch.errors import PolicyError
from orch.policy.build import FileBuilder
from orch.policy.model import PolicyFile, PolicySet
from orch.policy.problems import Problem
from orch.policy.yamlpos import MAX_BYTES

EXTENSIONS = (".yaml", ".yml")
#: found in a folder but not policies: policy tests (``orch test``) and the sandbox worlds they use
NOT_POLICIES = (".orchtest.yaml", ".orchtest.yml", ".world.yaml", ".world.yml")


def expand_paths(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Files as given; folders searched recursively for *.yaml/*.yml (sorted)."""
    files: list[str] = []
    problems: list[Problem] = []
    for path in paths:
        path = str(path)
        if os.path.isdir(path):
            found = sorted(
                os.path.join(root, name)
                for root, _dirs, names in os.walk(path)
                for name in names if name.endswith(EXTENSIONS) and not name.endswith(NOT_POLICIES)
            )
            if not found:
                problems.append(Problem(path, 1, 1, "no policy files (*.yaml, *.yml) in this folder"))
            files.extend(found)
        elif os.path.exists(path):
            files.append(path)
        else:
            problems.append(Problem(path, 1, 1, "no such file or folder"))
    seen: set[str] = set()
    unique = []
    for f in files:
        key = os.path.realpath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, problems


def build_files(paths: Iterable[str], var_overrides: dict[str, str] | None = None
                ) -> tuple[list[PolicyFile], list[Problem]]:
    """Build every file; return the files that built and every problem found (sorted)."""
    overrides = dict(var_overrides or {})
    files, problems = expand_paths(paths)
    built: list[PolicyFile] = []
    builders: list[FileBuilder] = []
    for path in files:
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > MAX_BYTES:
                    problems.append(Problem(path, 1, 1, f"file too large ({size} bytes; a policy file may "
                                                        f"hold at most {MAX_BYTES} bytes)"))
                    continue
                raw = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            problems.append(Problem(path, 1, 1, f"cannot read: {exc.strerror or exc}"))
            continue
        b = FileBuilder(path, raw, overrides)
        pf = b.build()
        builders.append(b)
        problems.extend(b.problems)
        if pf is not None:
            built.append(pf)
    # Policy names are unique across everything loaded together.
    first: dict[str, tuple[str, int]] = {}
    for b in builders:
        if not b.schema_ok:
            continue
        for i, pol in enumerate(b.doc.data.get("policies") or []):
            name = pol.get("name") if isinstance(pol, dict) else None
            if not isinstance(name, str):
                continue
            if name in first and first[name][0] != b.path:
                other_path, other_line = first[name]
                b.error(("policies", i, "name"),
                        f"duplicate policy name {name!r} (also in {other_path}:{other_line})")
                problems.append(b.problems[-1])
                built = [f for f in built if f.path != b.path]
            else:
                first.setdefault(name, (b.path, b.doc.pos(("policies", i, "name"))[0]))
    # A --var must name a variable of at least one file.
    if overrides:
        known = sorted({k for b in builders if b.schema_ok for k in (b.doc.data.get("vars") or {})})
        for name in sorted(set(overrides) - set(known)):
            where = next((b for b in builders if b.schema_ok), None)
            msg = f"unknown variable {name!r} given with --var (variables: {', '.join(known) or 'none'})"
            if where is not None:
                line, col = where.doc.pos(("vars",), key=True)
                problems.append(Problem(where.path, line, col, msg))
            else:
                problems.append(Problem(files[0] if files else "<command line>", 1, 1, msg))
    return built, sorted(set(problems))


def load_policies(paths: Iterable[str], var_overrides: dict[str, str] | None = None) -> PolicySet:
    """Load, validate and build policies; any problem raises PolicyError ``PATH:LINE:COL: message``."""
    built, problems = build_files(paths, var_overrides)
    if problems:
        more = f" (and {len(problems) - 1} more; run orch lint)" if len(problems) > 1 else ""
        raise PolicyError(f"{problems[0]}{more}")
    return PolicySet(files=built)
