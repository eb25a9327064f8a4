"""`orch ledger import FILE` / `orch ledger export` through the real CLI."""

from typer.testing import CliRunner

from orch.cli import app
from orch.engine.ledger import LEGACY_HEADER

runner = CliRunner()
A = "5c1e8d2a-0000-4000-8000-00000000000a"
B = "6d2f9e3b-0000-4000-8000-00000000000b"


def test_import_then_export(tmp_path):
    table = tmp_path / "analyses_managed_table.txt"
    table.write_text(f"{LEGACY_HEADER}\n{B},RUN_B-{B}{A},RUN_A-{A}")  # glued, no final newline
    state = tmp_path / "nested" / "state.db"
    result = runner.invoke(app, ["ledger", "import", str(table), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"imported 2 managed analyses from {table}")
    assert "glued" in result.output

    result = runner.invoke(app, ["ledger", "export", "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{LEGACY_HEADER}\n{A},RUN_A-{A}\n{B},RUN_B-{B}\n"


def test_import_errors_are_one_line(tmp_path):
    state = tmp_path / "state.db"
    result = runner.invoke(app, ["ledger", "import", str(tmp_path / "missing.txt"), "--state", str(state)])
    assert result.exit_code == 1 and "cannot read" in result.output and "Traceback" not in result.output

    foreign = tmp_path / "other.csv"
    foreign.write_text("name,size\nfoo,1\n")
    result = runner.invoke(app, ["ledger", "import", str(foreign), "--state", str(state)])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "does not look like" in result.output


def test_export_of_an_empty_ledger(tmp_path):
    result = runner.invoke(app, ["ledger", "export", "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 0 and result.output == LEGACY_HEADER + "\n"
