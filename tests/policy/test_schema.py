import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from orch.cli import app
from orch.policy.reference import REFERENCE_PATH, SCHEMA_PATH, reference_markdown, schema_json
from orch.policy.schema import policy_schema
from orch.policy.yamlpos import load_bytes
from orch.registry import actions, matchers

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_is_generated_from_the_registry():
    assert SCHEMA_PATH.read_text() == schema_json(), "run: python -m orch.policy.reference"


def test_reference_doc_is_generated_from_the_registry():
    assert REFERENCE_PATH.read_text() == reference_markdown(), "run: python -m orch.policy.reference"


def test_orch_schema_policy_prints_the_file():
    res = CliRunner().invoke(app, ["schema", "policy"])
    assert res.exit_code == 0 and json.loads(res.output) == json.loads(SCHEMA_PATH.read_text())


def test_schema_is_valid_and_covers_every_registered_kind():
    schema = policy_schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)
    for name in matchers.names():
        assert f"matcher.{name}" in schema["$defs"]
    for name in actions.names():
        assert f"action.{name}" in schema["$defs"]


def test_mgi_pack_validates_against_the_exported_schema():
    data = load_bytes((ROOT / "policies" / "mgi.yaml").read_bytes()).data
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(data)


def test_language_doc_shows_the_shipped_mgi_pack():
    doc = (ROOT / "docs" / "policy-language.md").read_text()
    assert (ROOT / "policies" / "mgi.yaml").read_text().rstrip("\n") in doc
