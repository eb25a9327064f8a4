"""``orch test``: policies as code. ``*.orchtest.yaml`` files plan policies against a sandbox world
and compare the plan with the expected actions (missing and unexpected actions both fail).

The file format is ``orch schema test`` (orch/testing/schema.py); the loader reports problems at
``PATH:LINE:COL`` like ``orch lint``; each case runs in its own in-process sandbox through the
real connectors (orch/testing/runner.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from orch.errors import ConfigError
from orch.policy.problems import Problem
from orch.testing.report import case_line, failure_lines, summary_line, write_junit
from orch.testing.runner import CaseResult, run_case
from orch.testing.spec import SUFFIX, find_test_files, load_test_file


@dataclass
class TestRun:
    results: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    updated: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def exit_code(self) -> int:
        return 1 if (self.failed or self.problems) else 0


def run_tests(paths: Iterable[str], *, update: bool = False, junit_xml: str | None = None,
              echo: Callable[[str], None] = print) -> TestRun:
    """Find, load and run every case; print as it goes; write JUnit XML and updates when asked."""
    started = time.monotonic()
    files, problems = find_test_files(list(paths) or ["."])
    if not files and not problems:
        raise ConfigError(f"no test files (*{SUFFIX}) found in {', '.join(map(str, paths)) or '.'}")
    run = TestRun(problems=list(problems))
    for path in files:
        tf = load_test_file(path)
        for p in tf.problems:
            echo(str(p))
        run.problems += tf.problems
        results = []
        for case in tf.cases:
            r = run_case(case)
            results.append(r)
            if update and r.plan is not None:
                echo(f"{case.nodeid} UPDATED ({len(r.plan['actions'])} action(s))")
                continue
            echo(case_line(r))
            for line in failure_lines(r):
                echo(f"    {line}")
        if update and any(r.plan is not None for r in results):
            run.updated += _update(path, results)
            for r in results:  # the expectation is now the plan
                if r.plan is not None:
                    r.missing, r.unexpected, r.missing_errors, r.unexpected_errors = [], [], [], []
        run.results += results
    run.seconds = time.monotonic() - started
    for p in problems:
        echo(str(p))
    if junit_xml:
        write_junit(junit_xml, run.results, run.problems, run.seconds)
    if update:
        echo(f"{run.updated} updated, {run.failed} failed" + (f", {len(run.problems)} errors" if run.problems else ""))
    else:
        echo(summary_line(run.passed, run.failed, len(run.problems)))
    return run


def _update(path: str, results: list[CaseResult]) -> int:
    from orch.testing.update import update_file

    return update_file(path, results)


__all__ = ["TestRun", "run_tests"]
