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
    from orch.engine.ledger import Ledger

    Ledger(tmp_path / "s.db").close()
    result = runner.invoke(app, ["ledger", "export", "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 0 and result.output == LEGACY_HEADER + "\n"


def test_export_of_a_missing_ledger_is_an_error_and_creates_nothing(tmp_path):
    """Issue 12.9: a typo in --state is an error, not a new empty database."""
    result = runner.invoke(app, ["ledger", "export", "--state", str(tmp_path / "typo.db")])
    assert result.exit_code == 1 and "no ledger at" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_history_lists_applied_actions_newest_first(tmp_path):
    import json

    from orch.engine.ledger import Ledger

    state = tmp_path / "state.db"
    with Ledger(str(state)) as ledger:
        ledger.record_raw(action_id="a1", policy="handoff", action="link", resource_kind="ica.data",
                      resource_id="fil.1", resource_name="M-1_S1_L001_R1_001.fastq.gz", outcome="done")
        ledger.record_raw(action_id="a2", policy="cleanup", action="delete", resource_kind="bssh.dataset",
                      resource_id="ds.9", outcome="failed", message="HTTP 500")
    result = runner.invoke(app, ["ledger", "history", "--state", str(state)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert "failed" in lines[0] and "delete" in lines[0] and "ds.9" in lines[0] and lines[0].endswith(": HTTP 500")
    assert "M-1_S1_L001_R1_001.fastq.gz (fil.1)" in lines[1] and "[handoff]" in lines[1]
    as_json = runner.invoke(app, ["ledger", "history", "--state", str(state), "--format", "json", "-n", "1"])
    assert [e["action_id"] for e in json.loads(as_json.output)] == ["a2"]


def test_history_without_a_ledger_is_one_line(tmp_path):
    result = runner.invoke(app, ["ledger", "history", "--state", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no ledger at" in result.output and not (tmp_path / "none.db").exists()


def test_import_export_and_history_by_group(tmp_path):
    from orch.engine.ledger import Ledger

    state = tmp_path / "state.db"
    with Ledger(state) as ledger:
        ledger.mark_managed(B, f"20261119_LH00619_0021_B22CCFJLT4_x-BclConvert-{B}", "handoff-smith", group="smith")
        ledger.mark_managed(A, f"RUN_A-{A}", "handoff-jones", group="jones")
        ledger.record_raw(action_id="a1", policy="handoff-smith", action="link", resource_kind="ica.data",
                          resource_id="fil.1", outcome="done", group="smith")
        ledger.record_raw(action_id="a2", policy="handoff-jones", action="link", resource_kind="ica.data",
                          resource_id="fil.2", outcome="done", group="jones")
    table = tmp_path / "analyses_managed_table.txt"
    table.write_text(f"{LEGACY_HEADER}\n{A},20250101_LH00001_0001_AXXXX\n")
    refused = runner.invoke(app, ["ledger", "import", str(table), "--state", str(state)])
    assert refused.exit_code == 1 and "several groups (jones, smith)" in refused.output
    assert refused.output.strip().count("\n") == 0
    done = runner.invoke(app, ["ledger", "import", str(table), "--state", str(state), "--group", "mgi"])
    assert done.exit_code == 0 and "imported 1 managed analysis" in done.output and "for group mgi" in done.output
    mgi = runner.invoke(app, ["ledger", "export", "--state", str(state), "--group", "mgi"])
    assert mgi.output == f"{LEGACY_HEADER}\n{A},20250101_LH00001_0001_AXXXX\n"  # round-trips the table
    smith = runner.invoke(app, ["ledger", "export", "--state", str(state), "--group", "smith"])
    assert smith.output == f"{LEGACY_HEADER}\n{B},20261119_LH00619_0021_B22CCFJLT4\n"  # the run folder
    hist = runner.invoke(app, ["ledger", "history", "--state", str(state), "--group", "smith"])
    assert hist.exit_code == 0 and hist.output.count("\n") == 1 and "[smith: handoff-smith]" in hist.output
