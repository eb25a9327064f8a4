"""Drive the real ``orch`` CLI (in process, Typer's CliRunner) against the sandbox.

Two ways, one interface: ``ServedOrch`` talks to a ``Sandbox`` the test started (``--ica-url``
and friends; state from ``GET /_sandbox/state``, clock moved with ``POST /_sandbox/clock``);
``InProcessOrch`` uses ``--sandbox --world`` (the CLI's own sandbox, persisted in
``.orch/sandbox/world.yaml``, which is the state we read and whose ``now`` we move). Both run in
the test's working directory with the ledger at ``state.db``. ``plan()`` runs ``orch plan
--format json`` and returns a ``PlanView``; ``apply()`` runs ``orch apply -p ... --yes``;
``advance()`` moves the sandbox clock and the ``--now`` given to later commands with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import requests
from typer.testing import CliRunner

from orch.cli import app
import yaml

from orch.sandbox.world import dump_world, load_world, read_world_file
from orch.timeutil import format_ts, parse_duration, parse_ts
from tests.mgi.worlds import ACCESS_TOKEN, API_KEY

REPO = Path(__file__).resolve().parents[2]
MGI_POLICY = REPO / "policies" / "mgi.yaml"


@dataclass
class CliResult:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"orch {' '.join(self.args)}\nexit {self.exit_code}\nstdout:\n{self.stdout[-4000:]}\nstderr:\n{self.stderr[-4000:]}"


class PlanView:
    """A plan JSON (contracts section 2) with small selectors for assertions."""

    def __init__(self, doc: dict[str, Any], result: CliResult):
        self.doc = doc
        self.result = result
        self.actions: list[dict[str, Any]] = doc["actions"]
        self.by_id = {a["id"]: a for a in self.actions}

    def select(self, action: str | None = None, policy: str | None = None, kind: str | None = None,
               rid: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.actions
                if (action is None or a["action"] == action) and (policy is None or a["policy"] == policy)
                and (kind is None or a["resource"]["kind"] == kind) and (rid is None or a["resource"]["id"] == rid)]

    def one(self, **kw: Any) -> dict[str, Any]:
        found = self.select(**kw)
        assert len(found) == 1, f"expected one action matching {kw}, got {len(found)}:\n{self.brief()}"
        return found[0]

    def on(self, rid: str) -> list[tuple[str, str | None]]:
        """(action, params.then) of every action on the resource with that id."""
        return sorted((a["action"], (a.get("params") or {}).get("then")) for a in self.select(rid=rid))

    def ids(self, **kw: Any) -> set[str]:
        return {a["resource"]["id"] for a in self.select(**kw)}

    def brief(self) -> str:
        return "\n".join(f"  {a['policy']}: {a['action']} {a['resource']['kind']} {a['resource']['id']} "
                         f"{a['resource'].get('name', '')} {a.get('params') or ''}" for a in self.actions) or "  (none)"


class StateView:
    """``GET /_sandbox/state`` (the world format) with lookups."""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc

    def ica_project(self, name: str) -> dict[str, Any]:
        return next(p for p in self.doc["ica"]["projects"] if p["name"] == name)

    def data(self, project: str) -> dict[str, dict[str, Any]]:
        """Path -> entry of every file and folder visible in the project (linked ones too)."""
        return {d["path"]: d for d in self.ica_project(project)["data"]}

    def data_by_id(self, data_id: str) -> dict[str, Any] | None:
        for p in self.doc["ica"]["projects"]:
            for d in p["data"]:
                if d["id"] == data_id and "owningProjectId" not in d:
                    return d
        return None

    def datasets(self) -> dict[str, dict[str, Any]]:
        return {d["Id"]: d for p in self.doc["basespace"]["projects"] for d in p["datasets"]}

    def runs(self) -> dict[str, dict[str, Any]]:
        return {r["Id"]: r for r in self.doc["basespace"]["runs"]}

    def trash(self) -> list[dict[str, Any]]:
        return self.doc["basespace"].get("trash") or []


class Orch:
    """The CLI against a sandbox, in ``workdir`` (the test's cwd). Subclasses say which sandbox."""

    mode = "abstract"

    def __init__(self, workdir: Path, now: datetime, policy: Path = MGI_POLICY):
        self.workdir = workdir
        self.policy = policy
        self.now = now
        self.state_db = str(workdir / "state.db")
        self.runner = CliRunner()
        self.env: dict[str, str | None] = {
            "ORCH_DEBUG": "1", "ICA_API_KEY": None, "BASESPACE_ACCESS_TOKEN": None,
            "ICA_API_KEY_FILE": None, "BASESPACE_CONFIG": None, "ORCH_STATE": None,
            "ORCH_ICA_URL": None, "ORCH_BASESPACE_URL": None, "AWS_ENDPOINT_URL_S3": None,
        }

    # ---------------------------------------------------------------- CLI
    def run(self, *args: str) -> CliResult:
        argv = [str(a) for a in args]
        res = self.runner.invoke(app, argv, env=self.env, catch_exceptions=False)
        for secret in (API_KEY, ACCESS_TOKEN):  # never in any output (plans, tables, errors)
            assert secret not in res.stdout and secret not in res.stderr, f"a credential was printed by orch {argv[0]}"
        return CliResult(argv, res.exit_code, res.stdout, res.stderr)

    def target(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _common(self, vars: Iterable[str], now: datetime | None | bool) -> list[str]:
        """``now``: a datetime, None (the harness clock), or False (no --now: the CLI's default)."""
        args = ["-p", str(self.policy), "--state", self.state_db, *self.target()]
        if now is not False:
            args += ["--now", format_ts(now or self.now)]
        for v in vars:
            args += ["--var", v]
        return args

    def plan_result(self, *vars: str, now: datetime | None | bool = None, extra: Iterable[str] = ()) -> CliResult:
        return self.run("plan", *self._common(vars, now), "--format", "json", *extra)

    def plan(self, *vars: str, now: datetime | None | bool = None) -> PlanView:
        res = self.plan_result(*vars, now=now)
        assert res.exit_code == 0, res.describe()
        try:
            doc = json.loads(res.stdout)
        except json.JSONDecodeError as exc:  # pragma: no cover - diagnostic
            raise AssertionError(f"plan --format json did not print JSON ({exc})\n{res.describe()}")
        assert doc.get("errors") in ([], None), f"plan has errors: {doc.get('errors')}"
        return PlanView(doc, res)

    def apply(self, *vars: str, now: datetime | None | bool = None, expect_exit: int = 0) -> CliResult:
        res = self.run("apply", *self._common(vars, now), "--yes")
        assert res.exit_code == expect_exit, res.describe()
        return res

    def apply_saved(self, plan_file: Path, expect_exit: int = 0) -> CliResult:
        """``orch apply PLAN.json --yes`` (the saved plan holds policies, vars and now)."""
        res = self.run("apply", str(plan_file), "--state", self.state_db, *self.target(), "--yes")
        assert res.exit_code == expect_exit, res.describe()
        return res

    def ledger_import(self, text: str) -> CliResult:
        table = self.workdir / "analyses_managed_table.txt"
        table.write_text(text, encoding="utf-8")
        res = self.run("ledger", "import", str(table), "--state", self.state_db)
        assert res.exit_code == 0, res.describe()
        return res

    def ledger_export(self) -> str:
        res = self.run("ledger", "export", "--state", self.state_db)
        assert res.exit_code == 0, res.describe()
        return res.stdout

    # ---------------------------------------------------------------- sandbox
    def state(self) -> StateView:  # pragma: no cover - overridden
        raise NotImplementedError

    def advance(self, duration: str) -> None:  # pragma: no cover - overridden
        """Move the sandbox clock forward; later commands use it as ``--now``."""
        raise NotImplementedError


class ServedOrch(Orch):
    """A sandbox the test started (real HTTP), reached with --ica-url/--basespace-url/--s3-endpoint-url
    and the world's credentials in ICA_API_KEY / BASESPACE_ACCESS_TOKEN."""

    mode = "served"

    def __init__(self, sandbox: Any, workdir: Path, now: datetime, policy: Path = MGI_POLICY):
        super().__init__(workdir, now, policy)
        self.sandbox = sandbox
        self.env.update(ICA_API_KEY=API_KEY, BASESPACE_ACCESS_TOKEN=ACCESS_TOKEN)

    def target(self) -> list[str]:
        return ["--ica-url", self.sandbox.ica_url, "--basespace-url", self.sandbox.basespace_url,
                "--s3-endpoint-url", self.sandbox.s3_endpoint_url]

    def state(self) -> StateView:
        r = requests.get(self.sandbox.control_url + "/state", timeout=10)
        r.raise_for_status()
        return StateView(r.json())

    def advance(self, duration: str) -> None:
        r = requests.post(self.sandbox.control_url + "/clock", json={"advance": duration}, timeout=10)
        r.raise_for_status()
        self.now = self.now + parse_duration(duration)


class InProcessOrch(Orch):
    """``orch ... --sandbox --world world.yaml``: the CLI's own in-process sandbox, whose state
    persists in ``.orch/sandbox/world.yaml`` between commands (that file is the state we read;
    its ``now`` is the sandbox clock, moved forward by editing it)."""

    mode = "in-process"

    def __init__(self, world: dict[str, Any], workdir: Path, now: datetime, policy: Path = MGI_POLICY):
        super().__init__(workdir, now, policy)
        self.world_file = workdir / "world.yaml"
        self.world_file.write_text(yaml.safe_dump(world, sort_keys=False), encoding="utf-8")
        self.persisted = workdir / ".orch" / "sandbox" / "world.yaml"

    def target(self) -> list[str]:
        return ["--sandbox", "--world", str(self.world_file)]

    def _current(self) -> dict[str, Any]:
        return read_world_file(self.persisted if self.persisted.exists() else self.world_file)

    def state(self) -> StateView:
        """The persisted world with the asynchronous work due by its clock completed (what the
        next command's sandbox starts from)."""
        world = load_world(self._current())
        world.settle(world.now)
        return StateView(dump_world(world, world.now))

    def advance(self, duration: str) -> None:
        doc = self._current()
        doc["now"] = format_ts(parse_ts(doc["now"]) + parse_duration(duration))
        self.persisted.parent.mkdir(parents=True, exist_ok=True)
        self.persisted.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        self.now = self.now + parse_duration(duration)


def manifest_bytes(state: StateView, project: str, path: str) -> str:
    entry = state.data(project).get(path)
    assert entry is not None, f"no file at {path} in {project}: {sorted(state.data(project))}"
    assert "content" in entry, f"{path} has no (text) content: {entry}"
    return entry["content"]
