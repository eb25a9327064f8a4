import json
import os
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orch.cli import app
from orch.policy.lint import lint_paths

ROOT = Path(__file__).resolve().parents[2]
MGI = ROOT / "policies" / "mgi.yaml"
MGI_LINES = MGI.read_text().splitlines(keepends=True)


def lint_text(tmp_path, text: str | bytes, name="p.yaml") -> list[str]:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return [str(p) for p in lint_paths([str(path)])]


def mgi_line(needle: str) -> int:
    """1-based line number of the first mgi.yaml line containing needle."""
    return next(i for i, line in enumerate(MGI_LINES, 1) if needle in line)


def mgi_with(lineno: int, replacement: str) -> str:
    lines = list(MGI_LINES)
    lines[lineno - 1] = replacement
    return "".join(lines)


MINI = textwrap.dedent("""\
    version: 1
    group: lab
    vars: {src: proj_a, days: 90}
    scope: {ica_projects: ["{{ src }}"]}
    policies:
      - name: p1
        description: test policy
        resource: ica.data
        project: "{{ src }}"
        filters:
          - {field: name, regex: 'x'}
        actions: [archive]
    """)


def mini(**subs: str) -> str:
    text = MINI
    for old, new in subs.items():
        text = text.replace(old.replace("_SP_", " "), new)
    return text


# ------------------------------------------------------------------ clean input
def test_shipped_policies_lint_clean():
    assert lint_paths([str(ROOT / "policies")]) == []


def test_cli_lint_exit_codes_and_formats(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["lint", str(ROOT / "policies")])
    assert ok.exit_code == 0 and ok.output == ""
    bad = tmp_path / "bad.yaml"
    bad.write_text(mgi_with(mgi_line("group: mgi"), "group: [mgi]\n"))
    res = runner.invoke(app, ["lint", str(bad)])
    assert res.exit_code == 1
    assert res.output == f"{bad}:{mgi_line('group: mgi')}:8: group: expected a string, got a list\n"
    res = runner.invoke(app, ["lint", "--format", "json", str(bad)])
    assert res.exit_code == 1
    assert json.loads(res.output) == [{"path": str(bad), "line": mgi_line("group: mgi"), "column": 8,
                                       "message": "group: expected a string, got a list"}]


# ------------------------------------------------------------------ broken copies of mgi.yaml
def test_mgi_syntax_error_reported_at_its_line(tmp_path):
    n = mgi_line("      via: bsshoutput_projects")
    out = lint_text(tmp_path, mgi_with(n, "      via: [bsshoutput_projects\n"))
    assert out == [f"{tmp_path / 'p.yaml'}:{n}:12: YAML syntax error: did not find expected ',' or ']' for the "
                   f"flow sequence that starts here (noticed at line {n + 1}, column 12)"]
    n = mgi_line("  - name: handoff-mgi-fastqs")
    out = lint_text(tmp_path, mgi_with(n, "  - name: handoff: mgi-fastqs\n"))
    assert out == [f"{tmp_path / 'p.yaml'}:{n}:18: YAML syntax error: mapping values are not allowed in this context"]


def test_unknown_key_without_a_close_match_gets_no_suggestion(tmp_path):
    n = mgi_line("    for_each:")
    out = lint_text(tmp_path, mgi_with(n, "    zzzz:\n"))
    assert len(out) == 1 and "unknown key 'zzzz' in policies[0] (allowed:" in out[0] and "did you mean" not in out[0]


def test_mgi_unknown_key_reported_at_the_key(tmp_path):
    n = mgi_line("    for_each:")
    out = lint_text(tmp_path, mgi_with(n, "    for_eachh:\n"))
    assert out == [f"{tmp_path / 'p.yaml'}:{n}:5: unknown key 'for_eachh' in policies[0]; did you mean 'for_each'? (allowed: actions, "
                   "allow_destructive, description, enabled, filters, for_each, from, max_resources, name, "
                   "project, resource)"]


def test_mgi_duplicate_key_reported_at_the_second(tmp_path):
    n = mgi_line("  days_to_delete: {default: 90")
    out = lint_text(tmp_path, mgi_with(n, MGI_LINES[n - 1] + "  days_to_delete: 91\n"))
    assert out == [f"{tmp_path / 'p.yaml'}:{n + 1}:3: duplicate key 'days_to_delete' (first at line {n})"]


def test_mgi_unknown_matcher_reported_at_it(tmp_path):
    n = mgi_line("      - not: managed")
    out = lint_text(tmp_path, mgi_with(n, "      - not: {managd: true}\n"))
    assert len(out) == 1 and out[0].startswith(f"{tmp_path / 'p.yaml'}:{n}:15: unknown matcher 'managd'; did you mean 'managed'? (known:")


# ------------------------------------------------------------------ bad input never crashes
@pytest.mark.parametrize("content,where,message", [
    (b"", "1:1", "empty policy file"),
    (b"# only a comment\n", "1:1", "empty policy file"),
    (b"version: 1\ngroup: [\n", "3:1", "YAML syntax error"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "1:1", "not a text file"),
    (b"version: 1\n\xff\xfe\n", "2:1", "not a text file: invalid UTF-8"),
    (b"- a\n- b\n", "1:1", "the top level must be a mapping"),
    (b"just text\n", "1:1", "the top level must be a mapping"),
    (b"a: &x [*x]\n", "1:4", "recursive alias"),
    (b"version: 1\n---\nversion: 1\n", "2:1", "YAML syntax error"),
])
def test_bad_files(tmp_path, content, where, message):
    out = lint_text(tmp_path, content)
    assert len(out) == 1
    path, line, col, msg = out[0].split(":", 3)
    assert f"{line}:{col}" == where and message in msg, out


def test_huge_file_is_refused_quickly(tmp_path):
    out = lint_text(tmp_path, b"# pad\n" * 1_000_000)
    assert out == [f"{tmp_path / 'p.yaml'}:1:1: file too large (6000000 bytes; a policy file may hold at most 1048576 bytes)"]


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 9)]
    out = lint_text(tmp_path, "\n".join(lines) + "\n")
    assert len(out) == 1 and "document too large" in out[0]


def test_missing_path_and_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    out = [str(p) for p in lint_paths([str(tmp_path / "nope.yaml"), str(tmp_path / "empty")])]
    assert out == [f"{tmp_path / 'empty'}:1:1: no policy files (*.yaml, *.yml) in this folder",
                   f"{tmp_path / 'nope.yaml'}:1:1: no such file or folder"]


# ------------------------------------------------------------------ schema messages
@pytest.mark.parametrize("subs,where,message", [
    ({"version: 1": "version: 2"}, "1:10", "version: must be 1, got 2"),
    ({"resource: ica.data": "resource: ica.dataa"}, "8:15", "policies[0].resource: 'ica.dataa' is not one of"),
    ({"actions: [archive]": "actions: [archiv]"}, "12:15", "unknown action or action that needs parameters: 'archiv'"),
    ({"actions: [archive]": "actions: [link]"}, "12:15", "'link' needs parameters: write link: {...}"),
    ({"actions: [archive]": "actions: [archive]\n    enabled: maybe"}, "13:14", "expected true, false or a {{ template }}"),
    ({"- {field: name, regex: 'x'}": "- {age: {field: x, older_than: 3 days}}"}, "11:38", "expected a duration such as 90d"),
    ({"- {field: name, regex: 'x'}": "- {field: name, regex: 'x', eq: y}"}, "11:9", "exactly one operator"),
    ({"- {field: name, regex: 'x'}": "- {status: A, managed: true}"}, "11:9", "a matcher is a mapping with exactly one key"),
    ({"- {field: name, regex: 'x'}": "- {age: {field: x, older_thn: 1d}}"}, "11:26", "unknown key 'older_thn' in policies[0].filters[0].age; did you mean 'older_than'? (allowed: field, older_than, younger_than)"),
    ({"- {field: name, regex: 'x'}": "- {status: {eq: A}}"}, "11:18", "expected a status or a list of statuses, got a mapping"),
    ({"    description: test policy\n": ""}, "6:5", "policies[0]: missing required key 'description'"),
    ({"actions: [archive]": "actions: [archive]\n    max_resources: {percent: 101}"}, "13:30", "must be at most 100, got 101"),
])
def test_schema_problems_point_at_the_node(tmp_path, subs, where, message):
    out = lint_text(tmp_path, mini(**subs))
    assert len(out) == 1, out
    _path, line, col, msg = out[0].split(":", 3)
    assert f"{line}:{col}" == where and message in msg, out


def test_templates_validate_where_int_bool_duration_expected(tmp_path):
    text = mini(**{"actions: [archive]": "actions: [archive]\n    enabled: \"{{ days > 1 }}\"\n"
                                         "    max_resources: {count: \"{{ days }}\"}",
                   "- {field: name, regex: 'x'}": "- {age: {field: x, older_than: \"{{ days }}d\"}}"})
    assert lint_text(tmp_path, text) == []


# ------------------------------------------------------------------ semantic checks
@pytest.mark.parametrize("subs,message", [
    ({"regex: 'x'": "regex: '(x'"}, "bad regex '(x': missing ), unterminated subpattern at position 0"),
    ({"regex: 'x'": "regex: '{{ nope }}'"}, "unknown variable 'nope' in template (variables: days, src)"),
    ({"regex: 'x'": "regex: '{{ x'"}, "template syntax error"),
    ({"regex: 'x'": "regex: \"{{ 2 ** 100000 }}\""}, "template not allowed: exponent too large"),
    ({"regex: 'x'": "regex: \"{{ 'a' * 1000000 }}\""}, "template not allowed: template result too large"),
    ({"regex: 'x'": "regex: \"{{ ''.__class__ }}\""}, "template not allowed: access to attribute '__class__'"),
    ({"description: test policy": "description: \"{{ nope }}\""}, "unknown variable 'nope'"),
    ({"regex: 'x'": "regex: '{{ analysis.reference }}'"}, "'analysis' is only available in per-resource templates"),
    ({"actions: [archive]": "actions: [delete]"}, "action 'delete' is destructive: the policy must say allow_destructive: true"),
    ({"actions: [archive]": "actions: [{unarchive: {then: delete}}]"}, "action 'unarchive' is destructive"),
    ({"actions: [archive]": "actions: [mark_managed]"}, "action 'mark_managed' does not apply to ica.data resources"),
    ({"- {field: name, regex: 'x'}": "- pipeline: x"}, "matcher 'pipeline' does not apply to ica.data resources"),
    ({"project: \"{{ src }}\"": "project: other"}, "ICA project 'other' is outside the file's scope (scope.ica_projects: proj_a)"),
    ({"- {field: name, regex: 'x'}": "- age: {field: t, older_than: 90d, younger_than: 60d}"},
     "contradictory age window: t older than 90d and younger than 60d can never both hold"),
    ({"- {field: name, regex: 'x'}": "- age: {field: t, older_than: \"{{ days }}d\"}\n      - not: {age: {field: t, older_than: 60d}}"},
     "contradictory age window: t older than 90d and not older than 60d can never both hold"),
    ({"- {field: name, regex: 'x'}": "- all: [age: {field: t, older_than: 2d}, age: {field: t, younger_than: 48h}]"},
     "contradictory age window"),
    ({"- {field: name, regex: 'x'}": "- use: nope"}, "unknown named matcher 'nope' (matchers: none defined)"),
    ({"resource: ica.data": "resource: bssh.dataset", "scope: {ica_projects: [\"{{ src }}\"]}":
      "scope: {ica_projects: [\"{{ src }}\"], bssh_projects: [b]}"}, "project names an ICA project; bssh.dataset policies do not take one"),
    ({"    project: \"{{ src }}\"\n": ""}, "an ica.data policy needs project (or from)"),
    ({"    project: \"{{ src }}\"\n": "", "resource: ica.data": "resource: bssh.dataset"},
     "a bssh.dataset policy without from selects the datasets of scope.bssh_projects, which is empty"),
    ({"resource: ica.data": "resource: ica.analysis", "regex: 'x'": "eq: 'x'",
      "actions: [archive]": "actions: [{manifest: {to: proj_a, name: x.csv}}]"},
     "manifest lists the files for_each selects: the policy needs for_each"),
    ({"days: 90}": "days: 90, d2: \"{{ days }}\"}"}, "variables are literal values"),
    ({"actions: [archive]": "actions: [archive]\n    enabled: \"{{ src }}\""}, "enabled must render to true or false, got 'proj_a'"),
])
def test_semantic_problems(tmp_path, subs, message):
    out = lint_text(tmp_path, mini(**subs))
    assert len(out) == 1 and message in out[0], out


def test_age_windows_that_touch_are_fine(tmp_path):
    text = mini(**{"- {field: name, regex: 'x'}":
                   "- age: {field: t, older_than: 60d}\n      - not: {age: {field: t, older_than: 60d}}"})
    assert "contradictory" in lint_text(tmp_path, text)[0]   # age > 60d and age <= 60d: empty
    text = mini(**{"- {field: name, regex: 'x'}":
                   "- age: {field: t, older_than: 60d}\n      - not: {age: {field: t, older_than: 61d}}"})
    assert lint_text(tmp_path, text) == []


def test_per_resource_templates_are_checked(tmp_path):
    text = mini(**{"resource: ica.data": "resource: ica.analysis",
                   "- {field: name, regex: 'x'}": "- status: SUCCEEDED",
                   "actions: [archive]": "actions: [{manifest: {to: \"{{ src }}\", name: \"{{ analysis.reference }}-{{ nope }}.csv\"}}]"})
    out = lint_text(tmp_path, text)
    assert len(out) == 1 and "unknown variable 'nope'" in out[0], out


def test_link_target_outside_scope(tmp_path):
    text = mini(**{"actions: [archive]": "actions: [{link: {to: elsewhere}}]"})
    assert "ICA project 'elsewhere' is outside the file's scope" in lint_text(tmp_path, text)[0]


def test_duplicate_policy_names_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(MINI)
    (tmp_path / "b.yaml").write_text(MINI)
    out = [str(p) for p in lint_paths([str(tmp_path)])]
    assert out == [f"{tmp_path / 'b.yaml'}:6:11: duplicate policy name 'p1' (also in {tmp_path / 'a.yaml'}:6)"]


def test_lint_needs_no_credentials(tmp_path, monkeypatch):
    for var in ("ICA_API_KEY", "ICA_API_KEY_FILE", "BASESPACE_ACCESS_TOKEN", "BASESPACE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # any network use would fail
    assert lint_paths([str(MGI)]) == []
    assert os.path.exists(MGI)
