"""``orch test`` output: one line per case (pytest style), the reasons of each failure, the
``N passed, N failed`` line, and JUnit XML for CI."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any, Iterable

from orch.policy.problems import Problem
from orch.testing.runner import CaseResult, error_text


def action_label(a: dict[str, Any]) -> str:
    res = a.get("resource") or {}
    then = (a.get("params") or {}).get("then")
    what = a.get("action", "?") + (f" (then {then})" if then else "")
    label = res.get("path") or res.get("name") or res.get("id", "")
    rid = f" ({res['id']})" if res.get("id") and res.get("id") != label else ""
    return f"{what} {res.get('kind', '?')} {label}{rid} [{a.get('policy', '?')}]"


def failure_lines(r: CaseResult) -> list[str]:
    """Why a case failed, one line each (empty when it passed)."""
    lines: list[str] = []
    if r.error:
        lines.append(f"error: {r.error}")
    for e in r.missing:
        lines.append(f"missing: {e.label()} (expected at {r.case.file}:{e.line}:{e.column})")
        if e.reason is not None:  # the same action with another reason: show what the plan says
            near = next((a for a in r.unexpected if replace(e, reason=None).matches(a)), None)
            if near is not None:
                lines.append(f"  planned with another reason: {near.get('reason', '')!r}")
    lines += [f"unexpected: {action_label(a)}" for a in r.unexpected]
    lines += [f"missing error: {t!r}" for t in r.missing_errors]
    lines += [f"unexpected error: {t}" for t in r.unexpected_errors]
    if r.missing or r.unexpected:
        lines.append(f"(the plan has {len(r.plan['actions'])} action(s); `orch test --update` writes them as "
                     f"the expectation for review)")
    return lines


def summary_line(passed: int, failed: int, errors: int = 0, seconds: float | None = None) -> str:
    text = f"{passed} passed, {failed} failed"
    if errors:
        text += f", {errors} error{'s' if errors != 1 else ''}"
    return text + (f" in {seconds:.2f}s" if seconds is not None else "")


def case_line(r: CaseResult) -> str:
    return f"{r.case.nodeid} {'PASSED' if r.passed else 'FAILED'} ({r.seconds:.2f}s)"


def write_junit(path: str, results: Iterable[CaseResult], problems: Iterable[Problem], seconds: float) -> None:
    """JUnit XML (the schema Jenkins, GitLab and GitHub test reporters read), written atomically."""
    results = list(results)
    problems = list(problems)
    failures = sum(1 for r in results if not r.passed and not r.error)
    errors = sum(1 for r in results if r.error) + len(problems)
    root = ET.Element("testsuites", name="orch test", tests=str(len(results) + len(problems)),
                      failures=str(failures), errors=str(errors), time=f"{seconds:.3f}")
    suite = ET.SubElement(root, "testsuite", name="orch test", tests=root.get("tests"), failures=str(failures),
                          errors=str(errors), skipped="0", time=f"{seconds:.3f}")
    for r in results:
        tc = ET.SubElement(suite, "testcase", classname=r.case.file, name=r.case.name, file=r.case.file,
                           line=str(r.case.line), time=f"{r.seconds:.3f}")
        if r.passed:
            continue
        lines = failure_lines(r)
        tag = "error" if r.error else "failure"
        parts = [f"{len(r.missing)} missing", f"{len(r.unexpected)} unexpected"] if not r.error else [r.error]
        node = ET.SubElement(tc, tag, message=", ".join(parts), type="orch.test")
        node.text = "\n".join(lines)
    for p in problems:
        tc = ET.SubElement(suite, "testcase", classname=p.path, name="(load)", file=p.path, line=str(p.line), time="0")
        node = ET.SubElement(tc, "error", message=p.message, type="orch.test.load")
        node.text = str(p)
    ET.indent(root)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".junit-", suffix=".xml")
    with os.fdopen(fd, "wb") as fh:
        ET.ElementTree(root).write(fh, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


__all__ = ["action_label", "case_line", "error_text", "failure_lines", "summary_line", "write_junit"]
