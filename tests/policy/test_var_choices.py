"""Variables that only take certain values: the long form ``{default, choices, min, max, description}``."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from orch.errors import PolicyError
from orch.policy.lint import lint_paths
from orch.policy.loader import load_policies

ROOT = Path(__file__).resolve().parents[2]
MGI = ROOT / "policies" / "mgi.yaml"
MGI_LINES = MGI.read_text().splitlines()

TEMPLATE = textwrap.dedent("""\
    version: 1
    group: lab
    vars:
      src: proj_a
    VARS
    scope: {ica_projects: ["{{ src }}"]}
    policies:
      - name: p1
        description: test policy
        resource: ica.data
        enabled: "{{ mode == 'on' }}"
        project: "{{ src }}"
        filters:
          - age: {field: timeCreated, older_than: "{{ days }}d"}
        actions: [archive]
    """)
LONG = ("  mode: {default: 'on', choices: ['on', 'off'], description: switch}\n"
        "  days: {default: 30, min: 1, max: 365}")


def write(tmp_path, vars_text: str = LONG) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(TEMPLATE.replace("VARS", vars_text))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def load_error(paths, overrides) -> str:
    with pytest.raises(PolicyError) as exc:
        load_policies([str(p) for p in paths], overrides)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# ------------------------------------------------------------------ the plain form is unchanged
def test_plain_form_loads_and_coerces_as_before(tmp_path):
    path = write(tmp_path, "  mode: 'on'\n  days: 30")
    [f] = load_policies([str(path)], {"days": "45", "mode": "anything"}).files
    assert f.vars == {"src": "proj_a", "mode": "anything", "days": 45}
    assert not f.policies[0].enabled  # no choices: any string is accepted, as before
    msg = load_error([path], {"days": "soon"})
    assert msg == f"{path}:{line_of(path, 'days:')}:3: --var days='soon' is not a whole number (the default is 30)"


# ------------------------------------------------------------------ the long form
def test_long_form_loads_to_plain_values(tmp_path):
    path = write(tmp_path)
    [f] = load_policies([str(path)]).files
    assert f.vars == {"src": "proj_a", "mode": "on", "days": 30}
    assert f.policies[0].enabled and f.policies[0].filters[0].params.older_than.days == 30
    [f] = load_policies([str(path)], {"mode": "off", "days": "365"}).files
    assert f.vars["mode"] == "off" and f.vars["days"] == 365 and not f.policies[0].enabled
    assert lint_paths([str(path)]) == []


@pytest.mark.parametrize("override, message", [
    ({"mode": "of"}, "--var mode='of' is not one of: on, off"),
    ({"mode": "ON"}, "--var mode='ON' is not one of: on, off"),
    ({"days": "0"}, "--var days=0 is less than the minimum 1"),
    ({"days": "-5"}, "--var days=-5 is less than the minimum 1"),
    ({"days": "366"}, "--var days=366 is more than the maximum 365"),
])
def test_bad_var_is_one_line_at_the_variable(tmp_path, override, message):
    path = write(tmp_path)
    (name,) = override
    assert load_error([path], override) == f"{path}:{line_of(path, f'  {name}: ')}:3: {message}"


def test_type_is_checked_before_the_range(tmp_path):
    path = write(tmp_path)
    assert load_error([path], {"days": "1.5"}).endswith("--var days='1.5' is not a whole number (the default is 30)")


def test_numeric_choices_and_float_bounds(tmp_path):
    path = write(tmp_path, "  mode: 'on'\n  days: {default: 30, choices: [7, 30, 90]}\n  ratio: {default: 0.5, min: 0, max: 1}")
    assert load_policies([str(path)], {"days": "90", "ratio": "1"}).files[0].vars["ratio"] == 1.0
    assert load_error([path], {"days": "60"}).endswith("--var days=60 is not one of: 7, 30, 90")
    assert load_error([path], {"ratio": "1.5"}).endswith("--var ratio=1.5 is more than the maximum 1")


def test_bound_from_another_variable(tmp_path):
    path = write(tmp_path, "  mode: 'on'\n  days: {default: 30, min: 1}\n"
                           "  keep: {default: 90, min: \"{{ days + 1 }}\"}")
    keep = line_of(path, "keep:")
    assert load_policies([str(path)], {"keep": "31"}).files[0].vars["keep"] == 31
    assert load_error([path], {"keep": "30"}) == (
        f"{path}:{keep}:3: --var keep=30 is less than the minimum 31 (min: {{{{ days + 1 }}}})")
    # the default of keep is ruled out by --var days: the message names that --var
    assert load_error([path], {"days": "120"}) == (
        f"{path}:{keep}:19: variable 'keep': the default 90 is less than the minimum 121 "
        f"(min: {{{{ days + 1 }}}} with --var days=120)")


# ------------------------------------------------------------------ bad declarations are lint errors
@pytest.mark.parametrize("decl, col, message", [
    ("{default: 'of', choices: ['on', 'off']}", 19, "variable 'mode': the default 'of' is not one of: on, off"),
    ("{default: 0, min: 1}", 19, "variable 'mode': the default 0 is less than the minimum 1"),
    ("{default: 9, max: 5}", 19, "variable 'mode': the default 9 is more than the maximum 5"),
    ("{default: 'on', choices: ['on', 1]}", 34, "variable 'mode': choice 1 is a number, but the default 'on' is a string"),
    ("{default: 'on', min: 1}", 30, "variable 'mode': min applies to number variables, but the default 'on' is a string"),
    ("{default: 5, min: \"{{ src }}\"}", 27, "variable 'mode': min must be a number, got 'proj_a'"),
    ("{default: 5, min: \"{{ nope }}\"}", 27, "unknown variable 'nope' in template (variables: days, mode, src)"),
    ("{default: '{{ src }}'}", 19, "variable 'mode': variables are literal values; templates are not rendered inside vars"),
    ("{choices: ['on']}", 9, "vars.mode: missing required key 'default'"),
    ("{default: 'on', choice: ['on']}", 25, "unknown key 'choice' in vars.mode; did you mean 'choices'? "
                                            "(allowed: choices, default, description, max, min)"),
    ("{default: 'on', choices: []}", 34, "vars.mode.choices: needs at least 1 item(s)"),
    ("{default: 1, min: 'one'}", 27, "vars.mode.min: expected a number or a {{ template }}, got the string 'one'"),
    ("[on, off]", 9, "vars.mode: expected a string, number or boolean (no templates), or a mapping with "
                     "default (the long form), got a list"),
])
def test_bad_declaration_is_a_lint_error(tmp_path, decl, col, message):
    path = tmp_path / "p.yaml"
    path.write_text(TEMPLATE.replace("VARS", f"  mode: {decl}\n  days: 3").replace("mode == 'on'", "true"))
    assert [str(p) for p in lint_paths([str(path)])] == [f"{path}:5:{col}: {message}"]


def test_exported_schema_takes_both_forms():
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "policy.schema.json").read_text()))
    base = {"version": 1, "group": "g", "scope": {}, "policies": [{"name": "p", "description": "d",
                                                                   "resource": "bssh.trash", "actions": ["purge_trash"]}]}
    validator.validate({**base, "vars": {"a": 1, "b": {"default": "x", "choices": ["x", "y"], "description": "d"}}})
    for bad in ({"b": {"choices": ["x"]}}, {"b": {"default": "x", "extra": 1}}, {"b": [1]}):
        assert not validator.is_valid({**base, "vars": bad})


# ------------------------------------------------------------------ the MGI pack
def mgi_line(needle: str) -> int:
    return next(i for i, line in enumerate(MGI_LINES, 1) if needle in line)


def test_mgi_bssh_runs_typo_is_refused():
    assert load_error([MGI], {"bssh_runs": "sorce"}) == (
        f"{MGI}:{mgi_line('  bssh_runs:')}:3: --var bssh_runs='sorce' is not one of: source, all")
    by = {p.name: p for p in load_policies([str(MGI)], {"bssh_runs": "all"}).policies}
    assert by["delete-all-basespace-runs"].enabled and not by["delete-basespace-runs"].enabled


def test_mgi_day_counts_are_checked():
    delete, archive = mgi_line("  days_to_delete:"), mgi_line("  days_to_archive:")
    assert load_error([MGI], {"days_to_archive": "0"}) == (
        f"{MGI}:{archive}:3: --var days_to_archive=0 is less than the minimum 1")
    assert load_error([MGI], {"days_to_delete": "-5"}) == (
        f"{MGI}:{delete}:3: --var days_to_delete=-5 is less than the minimum 61 (min: {{{{ days_to_archive + 1 }}}})")
    msg = load_error([MGI], {"days_to_archive": "120"})
    assert msg.startswith(f"{MGI}:{delete}:") and "the default 90 is less than the minimum 121" in msg
    assert "--var days_to_archive=120" in msg and "more" not in msg  # no cascade of window errors
    assert load_error([MGI], {"handoff_max_age_days": "0"}).endswith("is less than the minimum 1")
    f = load_policies([str(MGI)], {"days_to_archive": "1", "days_to_delete": "2"}).files[0]
    assert (f.vars["days_to_archive"], f.vars["days_to_delete"]) == (1, 2)


def test_mgi_defaults_are_the_contract_values():
    f = load_policies([str(MGI)]).files[0]
    assert {k: f.vars[k] for k in ("days_to_archive", "days_to_delete", "handoff_max_age_days", "bssh_runs")} == {
        "days_to_archive": 60, "days_to_delete": 90, "handoff_max_age_days": 60, "bssh_runs": "source"}


def test_cli_plan_with_a_typo_exits_1_with_one_line(tmp_path):
    orch = Path(sys.executable).with_name("orch")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "300"}
    res = subprocess.run([str(orch), "plan", "-p", str(MGI), "--var", "bssh_runs=sorce", "--sandbox"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stderr
    assert res.stderr.splitlines() == [
        f"error: {MGI}:{mgi_line('  bssh_runs:')}:3: --var bssh_runs='sorce' is not one of: source, all"]
    assert "Traceback" not in res.stdout + res.stderr
