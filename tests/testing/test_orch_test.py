"""``orch test``: the shipped pack tests pass; a wrong expectation, a missing and an unexpected action
each fail (exit 1, named); ``--update`` round-trips; bad test files give PATH:LINE:COL problems.

Every case here runs the real CLI in process: a sandbox over real HTTP per case, the real planner."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import yaml
from typer.testing import CliRunner

from orch.cli import app
from orch.policy.reference import ORCHTEST_SCHEMA_PATH, orchtest_schema_json
from orch.policy.yamlpos import load_bytes
from orch.testing.schema import orchtest_schema
from tests.conftest import SMALL_WORLD

ROOT = Path(__file__).resolve().parents[2]
MGI = ROOT / "policies" / "mgi.yaml"
PACK_TESTS = sorted((ROOT / "policies").rglob("*.orchtest.yaml"))

# The small world (tests/conftest.py) under the MGI pack, with sources named as the pack expects.
# Its plan: RUN_A (5 d old, BaseSpace-managed) hands off two M- files and records; RUN_B (147 d,
# FAILEDFINAL, ICA-managed, ARCHIVED) is restored first to be deleted.
RUN_A = "5c1e0000-0000-4000-8000-00000000000a"
A_R1 = "M-1_S1_L001_R1_001.fastq.gz"
A_R2 = "M-1_S1_L001_R2_001.fastq.gz"
RUN_B_OUT = "/ilmn-analyses/RUN_B/output/"


def orch(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"ORCH_DEBUG": None})
    return res.exit_code, res.stdout + (res.stderr if res.stderr_bytes is not None else "")


def write_case(tmp_path: Path, expect: list[dict], name: str = "small", **extra) -> Path:
    doc = {"version": 1, "policies": [str(MGI)], "world": SMALL_WORLD,
           "cases": [{"name": name, "expect": expect, **extra}]}
    path = tmp_path / "small.orchtest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


GOOD = [
    {"action": "link", "kind": "ica.data", "name": A_R1},
    {"action": "link", "kind": "ica.data", "name": A_R2, "params": {"to_project": "Ken_demos"}},
    {"action": "manifest", "kind": "ica.analysis", "id": RUN_A},
    {"action": "mark_managed", "kind": "ica.analysis", "id": RUN_A, "policy": "handoff-mgi-fastqs"},
    {"action": "unarchive", "kind": "ica.data", "path": RUN_B_OUT, "then": "delete", "reason": "it is archived, so it is unarchived now"},
]


def test_shipped_pack_tests_pass():
    assert PACK_TESTS, "every shipped pack has an *.orchtest.yaml next to it"
    cases = sum(len(yaml.safe_load(p.read_text())["cases"]) for p in PACK_TESTS)
    code, out = orch("test", str(ROOT / "policies"))
    assert code == 0, out
    assert out.rstrip().splitlines()[-1] == f"{cases} passed, 0 failed"
    assert out.count(" PASSED (") == cases


def test_every_shipped_pack_has_tests():
    packs = {p.resolve() for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".orchtest.yaml")}
    tested = set()
    for t in PACK_TESTS:
        doc = yaml.safe_load(t.read_text())
        for pol in doc.get("policies", []) + [p for c in doc["cases"] for p in c.get("policies", [])]:
            tested.add((t.parent / pol).resolve())
    assert packs <= tested, f"packs without tests: {sorted(map(str, packs - tested))}"


def test_small_world_case_passes(tmp_path):
    code, out = orch("test", str(write_case(tmp_path, GOOD)))
    assert code == 0, out
    assert re.search(r"small\.orchtest\.yaml::small PASSED \(\d+\.\d\ds\)", out)
    assert out.rstrip().endswith("1 passed, 0 failed")


def test_wrong_expectation_fails_naming_both_sides(tmp_path):
    wrong = [dict(e) for e in GOOD]
    wrong[4] = {"action": "delete", "kind": "ica.data", "path": RUN_B_OUT}  # the plan restores first
    code, out = orch("test", str(write_case(tmp_path, wrong)))
    assert code == 1
    assert "::small FAILED" in out
    assert re.search(r"missing: delete ica.data /ilmn-analyses/RUN_B/output/ \(expected at .*small.orchtest.yaml:\d+:\d+\)", out)
    assert "unexpected: unarchive (then delete) ica.data /ilmn-analyses/RUN_B/output/" in out
    assert out.rstrip().endswith("0 passed, 1 failed")


def test_missing_action_fails(tmp_path):
    extra = GOOD + [{"action": "link", "kind": "ica.data", "name": "X-2_S2_L001_R1_001.fastq.gz"}]
    code, out = orch("test", str(write_case(tmp_path, extra)))
    assert code == 1
    assert "missing: link ica.data X-2_S2_L001_R1_001.fastq.gz" in out
    assert "unexpected:" not in out


def test_unexpected_action_fails(tmp_path):
    code, out = orch("test", str(write_case(tmp_path, GOOD[1:])))
    assert code == 1
    lines = [line.strip() for line in out.splitlines() if "unexpected:" in line]
    assert len(lines) == 1 and lines[0].startswith(f"unexpected: link ica.data /ilmn-analyses/RUN_A/output/Samples/Lane_1/{A_R1}")
    assert "missing:" not in out


def test_reason_text_is_compared(tmp_path):
    wrong = [dict(e) for e in GOOD]
    wrong[4]["reason"] = "younger than 3d"
    code, out = orch("test", str(write_case(tmp_path, wrong)))
    assert code == 1 and "missing: unarchive (then delete) ica.data" in out
    assert "planned with another reason: 'delete output folder of analysis RUN_B (FAILEDFINAL" in out


def test_a_broad_expectation_does_not_steal_a_narrow_ones_action(tmp_path):
    # both links have policy handoff-mgi-fastqs; the first expectation could take either one
    both = [{"action": "link", "kind": "ica.data", "policy": "handoff-mgi-fastqs", "path": p}
            for p in (f"/ilmn-analyses/RUN_A/output/Samples/Lane_1/{A_R2}",)]
    both += [{"action": "link", "name": A_R1}] + GOOD[2:]
    code, out = orch("test", str(write_case(tmp_path, both)))
    assert code == 0, out


def test_vars_and_managed_change_the_plan(tmp_path):
    # RUN_A already handed off and a regex nothing matches: only RUN_B's lifecycle is left
    path = write_case(tmp_path, [GOOD[4]], managed=[RUN_A], vars={"mgi_name_regex": "^NOPE"})
    code, out = orch("test", str(path))
    assert code == 0, out


def test_update_round_trips(tmp_path):
    path = write_case(tmp_path, [])
    text = "# a comment that --update keeps\n" + path.read_text()
    path.write_text(text)
    code, out = orch("test", "--update", str(path))
    assert code == 0, out
    assert "::small UPDATED (5 action(s))" in out and out.rstrip().endswith("1 updated, 0 failed")
    updated = path.read_text()
    assert updated.startswith("# a comment that --update keeps\n")
    doc = yaml.safe_load(updated)
    assert doc["cases"][0]["expect"] == [  # in plan order (policy name first)
        {"action": "unarchive", "kind": "ica.data", "path": RUN_B_OUT, "then": "delete",
         "policy": "delete-ica-outputs"},
        {"action": "link", "kind": "ica.data", "name": A_R1, "policy": "handoff-mgi-fastqs"},
        {"action": "link", "kind": "ica.data", "name": A_R2, "policy": "handoff-mgi-fastqs"},
        {"action": "manifest", "kind": "ica.analysis", "name": "RUN_A-BclConvert_v4_1_23-5c1e",
         "policy": "handoff-mgi-fastqs"},
        {"action": "mark_managed", "kind": "ica.analysis", "name": "RUN_A-BclConvert_v4_1_23-5c1e",
         "policy": "handoff-mgi-fastqs"},
    ]
    assert doc["world"] == SMALL_WORLD  # the inline world is kept as it was
    code, out = orch("test", str(path))
    assert code == 0 and out.rstrip().endswith("1 passed, 0 failed"), out
    orch("test", "--update", str(path))
    assert path.read_text() == updated  # a second update changes nothing


def test_junit_xml(tmp_path):
    good = write_case(tmp_path, GOOD, name="good")
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    write_case(bad_dir, GOOD[1:], name="bad")
    report = tmp_path / "out" / "junit.xml"
    code, out = orch("test", str(good), str(bad_dir), "--junit-xml", str(report))
    assert code == 1 and out.rstrip().endswith("1 passed, 1 failed")
    root = ET.parse(report).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {tc.get("name"): tc for tc in suite.iter("testcase")}
    assert cases["good"].find("failure") is None
    failure = cases["bad"].find("failure")
    assert failure.get("message") == "0 missing, 1 unexpected" and "unexpected: link ica.data" in failure.text


def test_test_file_problems_have_positions(tmp_path):
    path = tmp_path / "bad.orchtest.yaml"
    path.write_text("version: 1\nworld: orch:demo\npolicies: [x.yaml]\ncases:\n"
                    "  - name: one\n    expect:\n      - {action: delete, kind: ica.data}\n"
                    "  - name: two\n    expct: []\n")
    code, out = orch("test", str(path))
    assert code == 1
    assert f"{path}:7:9: cases[0].expect[0]: an expected action names its resource: give name, path or id" in out
    assert re.search(rf"{re.escape(str(path))}:9:5: unknown key 'expct' in cases\[1\]; did you mean 'expect'\?", out)
    assert out.rstrip().endswith("0 passed, 0 failed, 2 errors")


def test_a_case_that_cannot_plan_fails_with_one_line(tmp_path):
    bad_world = dict(SMALL_WORLD, now="not a time")
    path = write_case(tmp_path, [], world=bad_world)
    code, out = orch("test", str(path))
    assert code == 1
    errors = [line for line in out.splitlines() if line.strip().startswith("error:")]
    assert len(errors) == 1 and "now" in errors[0] and "Traceback" not in out


def test_no_test_files_is_an_error(tmp_path):
    code, out = orch("test", str(tmp_path))
    assert code == 1 and "no test files (*.orchtest.yaml)" in out


def test_lint_and_plan_of_a_folder_skip_test_files(tmp_path):
    (tmp_path / "mgi.yaml").write_text(MGI.read_text())
    write_case(tmp_path, GOOD)
    code, out = orch("lint", str(tmp_path))
    assert code == 0, out


def test_schema_file_and_command():
    assert ORCHTEST_SCHEMA_PATH.read_text() == orchtest_schema_json(), "run: python -m orch.policy.reference"
    code, out = orch("schema", "test")
    assert code == 0 and json.loads(out) == orchtest_schema()
    jsonschema.Draft202012Validator.check_schema(orchtest_schema())
    for t in PACK_TESTS:  # the shipped tests are valid documents of it
        jsonschema.Draft202012Validator(orchtest_schema()).validate(load_bytes(t.read_bytes()).data)


def test_every_key_has_hover_help():
    schema = orchtest_schema()
    seen = 0
    for where, props in [("file", schema["properties"])] + [(k, d.get("properties", {})) for k, d in schema["$defs"].items()]:
        for key, sub in props.items():
            seen += 1
            assert sub.get("description"), f"{where}.{key} has no description"
            assert sub.get("examples") or key in ("cases",), f"{where}.{key} has no example"
    assert seen > 20
