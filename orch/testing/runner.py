"""Run one test case: a fresh in-process sandbox over the case's world, the real connectors over
HTTP, a throw-away ledger, the real planner; then compare the plan with the expectations."""

from __future__ import annotations

import copy
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orch.errors import OrchError
from orch.testing.schema import DEMO_WORLD
from orch.testing.spec import Expectation, TestCase

CONCURRENCY = 4


@dataclass
class _Platforms:
    """What ``commands.make_plan`` needs of a session: the two clients and the clock."""

    ica: Any
    bssh: Any
    now: Any


@dataclass
class CaseResult:
    case: TestCase
    plan: dict[str, Any] | None = None  # the plan as JSON (contracts section 2)
    error: str | None = None  # the case could not be planned (bad policy, world, ...)
    missing: list[Expectation] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    missing_errors: list[str] = field(default_factory=list)
    unexpected_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not (self.error or self.missing or self.unexpected or self.missing_errors or self.unexpected_errors)


def var_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _world_doc(case: TestCase) -> dict[str, Any]:
    from orch.engine.session import demo_world_path
    from orch.sandbox.world import read_world_file

    if isinstance(case.world, dict):
        doc = copy.deepcopy(case.world)
    else:
        doc = read_world_file(demo_world_path() if case.world == DEMO_WORLD else case.world)
    if case.now is not None and isinstance(doc, dict):
        doc["now"] = case.now  # the platforms' clock is the run's clock
    return doc


def _legacy_table(ids: list[str]) -> str:
    from orch.engine.ledger import LEGACY_HEADER

    return LEGACY_HEADER + "\n" + "".join(f"{i},{i}\n" for i in ids)


def plan_case(case: TestCase) -> dict[str, Any]:
    """The plan of one case as JSON; raises OrchError when it cannot be made."""
    from orch.connectors.basespace import BasespaceClient
    from orch.connectors.ica import IcaClient
    from orch.engine.commands import make_plan
    from orch.engine.ledger import Ledger
    from orch.policy.loader import load_policies
    from orch.sandbox.server import Sandbox
    from orch.settings import RunSettings
    from orch.timeutil import parse_ts

    if case.now is not None:
        try:
            parse_ts(case.now)
        except ValueError:
            raise OrchError(f"now {case.now!r} is not an ISO 8601 timestamp (e.g. 2026-11-25T12:00:00Z)") from None
    overrides = {k: var_text(v) for k, v in case.vars.items()}
    policies = load_policies(case.policies, overrides)
    sandbox = Sandbox(_world_doc(case))  # a bad world raises ConfigError naming the field
    with tempfile.TemporaryDirectory(prefix="orch-test-") as tmp, sandbox:
        ica = IcaClient(sandbox.ica_url, sandbox.world.api_key, s3_endpoint_url=sandbox.s3_endpoint_url,
                        concurrency=CONCURRENCY)
        bssh = BasespaceClient(sandbox.basespace_url, sandbox.world.access_token, concurrency=CONCURRENCY)
        try:
            with Ledger(str(Path(tmp) / "state.db")) as ledger:
                if case.managed:
                    ledger.import_legacy(_legacy_table(case.managed), source=f"{case.file} (managed)")
                settings = RunSettings(policy_paths=case.policies, var_overrides=overrides,
                                       now=sandbox.world.now, concurrency=CONCURRENCY)
                outcome = make_plan(settings, _Platforms(ica, bssh, sandbox.world.now), ledger, policies)
        finally:
            for client in (ica, bssh):
                close = getattr(client, "close", None)
                if close:
                    close()
    return outcome.plan.to_dict()


def _match(expect: list[Expectation], actions: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """A maximum matching of expectations to actions (each used once): (unmatched expectation
    indexes, unmatched action indexes). Augmenting paths, so a broad expectation never steals
    the only action a narrow one could match."""
    fits = [[j for j, a in enumerate(actions) if e.matches(a)] for e in expect]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    missing = [i for i in range(len(expect)) if not augment(i, set())]
    unexpected = [j for j in range(len(actions)) if j not in owner]
    return missing, unexpected


def _match_errors(expected: list[str], actual: list[str]) -> tuple[list[str], list[str]]:
    left = list(actual)
    missing = []
    for text in expected:
        hit = next((m for m in left if text in m), None)
        if hit is None:
            missing.append(text)
        else:
            left.remove(hit)
    return missing, left


def error_text(issue: dict[str, Any]) -> str:
    return f"{issue['policy']}: {issue['message']}" if issue.get("policy") else str(issue.get("message", ""))


def run_case(case: TestCase) -> CaseResult:
    started = time.monotonic()
    result = CaseResult(case=case)
    try:
        result.plan = plan_case(case)
    except OrchError as exc:
        result.error = str(exc)
    else:
        missing, unexpected = _match(case.expect, result.plan["actions"])
        result.missing = [case.expect[i] for i in missing]
        result.unexpected = [result.plan["actions"][j] for j in unexpected]
        errors = [error_text(e) for e in result.plan.get("errors") or []]
        result.missing_errors, result.unexpected_errors = _match_errors(case.errors, errors)
    result.seconds = time.monotonic() - started
    return result
