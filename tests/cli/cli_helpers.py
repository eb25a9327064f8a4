"""Helpers of the CLI-semantics tests: the e2e driver (in-process CLI against a served sandbox) and
the console script as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2e_helpers import KEY, MGI, NOW, TOKEN, Cli, every_kind_world  # noqa: E402,F401

CLEAN_ENV = ("ICA_API_KEY", "ICA_API_KEY_FILE", "BASESPACE_CONFIG", "BASESPACE_ACCESS_TOKEN", "ORCH_STATE",
             "ORCH_ICA_URL", "ORCH_BASESPACE_URL", "AWS_ENDPOINT_URL_S3", "ORCH_DEBUG")


def orch_proc(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
              input: str | None = None) -> subprocess.CompletedProcess:
    """``python -m orch ARGS`` in ``cwd`` with a clean credentials environment (HOME in cwd)."""
    base = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    base.update(HOME=str(cwd), NO_COLOR="1")
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "orch", *map(str, args)], cwd=cwd, env=base, capture_output=True,
                          text=True, timeout=timeout, input=input)


def sandbox_state(workdir: Path) -> dict[str, Any]:
    """The world a --sandbox command left in ``workdir``."""
    return yaml.safe_load((workdir / ".orch" / "sandbox" / "world.yaml").read_text(encoding="utf-8"))


def orch_run(*args: str, cwd: Path, env: dict[str, str] | None = None,
             input: str | None = None) -> subprocess.CompletedProcess:
    """The same as ``orch_proc`` in this process (Typer's runner; seconds saved per command)."""
    import contextlib

    from typer.testing import CliRunner

    from orch.cli import app

    full = {k: None for k in CLEAN_ENV}
    full.update(HOME=str(cwd), NO_COLOR="1")
    full.update(env or {})
    with contextlib.chdir(cwd):
        res = CliRunner().invoke(app, [str(a) for a in args], env=full, input=input)
    return subprocess.CompletedProcess(list(args), res.exit_code, res.stdout, res.stderr)
