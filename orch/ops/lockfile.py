"""``python -m orch.ops.lockfile > requirements.lock``: pin orch's runtime dependencies (the closure of
pyproject's ``dependencies`` as installed in this environment) for the Dockerfile."""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

HEADER = ("# Runtime dependencies of orch, pinned (the Dockerfile installs exactly these).\n"
          "# Regenerate in a fresh venv (pip install -e .): python -m orch.ops.lockfile > requirements.lock\n")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(pyproject: Path) -> list[str]:
    from packaging.requirements import Requirement

    roots = [Requirement(d).name for d in tomllib.loads(pyproject.read_text())["project"]["dependencies"]]
    seen: dict[str, tuple[str, str]] = {}
    stack = list(roots)
    while stack:
        name = stack.pop()
        if _key(name) in seen:
            continue
        dist = md.distribution(name)
        seen[_key(name)] = (dist.metadata["Name"], dist.version)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
    return [f"{n}=={v}" for n, v in sorted(seen.values(), key=lambda x: x[0].lower())]


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    sys.stdout.write(HEADER + "\n".join(pins(root / "pyproject.toml")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
