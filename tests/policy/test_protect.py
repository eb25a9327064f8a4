"""``protect:`` in policy files: schema, lint (with positions), templates, the typed ProtectList."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from orch.engine.limits import Protect
from orch.policy.lint import lint_paths
from orch.policy.loader import load_policies
from orch.policy.model import ProtectList
from orch.policy.schema import policy_schema
from orch.errors import PolicyError

ROOT = Path(__file__).resolve().parents[2]

BASE = textwrap.dedent("""\
    version: 1
    group: lab
    vars: {src: proj_a, run: RUN_1}
    scope: {ica_projects: ["{{ src }}"]}
    policies:
      - name: p1
        description: test policy
        resource: ica.data
        project: "{{ src }}"
        actions: [archive]
    """)


def write(tmp_path: Path, protect: str, name: str = "p.yaml", base: str = BASE) -> Path:
    path = tmp_path / name
    path.write_text(base + textwrap.dedent(protect))
    return path


def lint(tmp_path: Path, protect: str) -> list[str]:
    return [str(p) for p in lint_paths([str(write(tmp_path, protect))])]


def test_protect_loads_into_a_typed_list_with_templates_rendered(tmp_path):
    path = write(tmp_path, """\
        protect:
          names: ["*.cram", "{{ run }}_keep*"]
          paths: ["/ilmn-analyses/{{ run }}/"]
          ids: [fil.1, 26374511]
          tags: [legal-hold]
        """)
    [pf] = load_policies([str(path)]).files
    assert pf.protect == ProtectList(names=["*.cram", "RUN_1_keep*"], paths=["/ilmn-analyses/RUN_1/"],
                                     ids=["fil.1", "26374511"], tags=["legal-hold"])
    [pf] = load_policies([str(path)], {"run": "RUN_2"}).files  # --var renders into protect entries too
    assert pf.protect.paths == ["/ilmn-analyses/RUN_2/"]


@pytest.mark.parametrize("protect", ["", "protect:\n  # nothing yet\n", "protect: {}\n", "protect: {names: []}\n"])
def test_no_or_empty_protect_is_clean_and_protects_nothing(tmp_path, protect):
    path = write(tmp_path, protect)
    assert lint_paths([str(path)]) == []
    [pf] = load_policies([str(path)]).files
    assert not pf.protect and pf.protect == ProtectList()


@pytest.mark.parametrize("protect, line, message", [
    ('protect:\n  names: [""]\n', 12, "protect.names[0]: "),
    ('protect:\n  names: ["  "]\n', 12, "empty protect names entry"),
    ('protect:\n  names: [" a.cram"]\n', 12, "leading or trailing spaces"),
    ('protect:\n  names: [a/b.cram]\n', 12, "names match the base name only; use protect.paths"),
    ('protect:\n  names: ["[ab.cram"]\n', 12, "bad glob '[ab.cram': '[' at position 1 is never closed"),
    ('protect:\n  tags: [x]\n  paths:\n    - /ok/\n    - "/a/[!]x"\n', 15, "bad glob"),
    ('protect:\n  paths: [ilmn-analyses/RUN/]\n', 12, "must start with '/'"),
    ('protect:\n  ids: ["fil.*"]\n', 12, "ids match exactly"),
    ('protect:\n  tags: [a, b, a]\n', 12, "duplicate protect tags entry 'a' (also protect.tags[0])"),
    ('protect:\n  name: ["*.cram"]\n', 12, "unknown key 'name' in protect; did you mean 'names'? (allowed: ids, names, paths, tags)"),
    ('protect:\n  names: "*.cram"\n', 12, "protect.names: expected a list"),
    ('protect:\n  names: ["{{ nope }}"]\n', 12, "unknown variable 'nope'"),
    ('protect: [a]\n', 11, "protect: expected a mapping or nothing"),
])
def test_bad_protect_entries_are_lint_errors_at_their_position(tmp_path, protect, line, message):
    problems = lint(tmp_path, protect)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'p.yaml'}:{line}:"), problems
    assert message in problems[0], problems
    with pytest.raises(PolicyError, match="protect"):
        load_policies([str(tmp_path / "p.yaml")])


def test_schema_describes_protect_and_validates_it():
    schema = policy_schema()
    prop = schema["properties"]["protect"]
    assert set(prop["properties"]) == {"names", "paths", "ids", "tags"}
    doc = {"version": 1, "group": "g", "scope": {}, "policies": [{"name": "p", "description": "d",
                                                                    "resource": "bssh.run", "actions": ["archive"]}]}
    jsonschema.validate({**doc, "protect": {"ids": ["x", 12]}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "protect": {"paths": [""]}}, schema)
    shipped = json.loads((ROOT / "schemas" / "policy.schema.json").read_text())
    assert shipped["properties"]["protect"] == prop


def test_protect_lists_of_all_files_are_unioned_with_their_origin(tmp_path):
    a = write(tmp_path, "protect: {names: ['*.cram'], ids: [fil.1]}\n", name="a.yaml")
    b = write(tmp_path, "protect: {ids: [fil.1, fil.2]}\n", name="b.yaml",
              base=BASE.replace("name: p1", "name: p2"))
    protect = Protect.from_files(load_policies([str(a), str(b)]).files)
    assert protect.ids == ["fil.1", "fil.2"] and protect.names == ["*.cram"]
    why = protect.why({"id": "fil.1"})
    assert why == f"its id fil.1 is on the protect list (protect.ids of {a}, {b})"
    assert protect.why({"id": "z", "name": "x.cram"}).endswith(f"(protect.names of {a})")


def test_shipped_mgi_pack_stays_lint_clean_with_its_protect_block():
    assert lint_paths([str(ROOT / "policies")]) == []
    [pf] = load_policies([str(ROOT / "policies" / "mgi.yaml")]).files
    assert not pf.protect  # the example is commented out: the demo plan is unchanged
