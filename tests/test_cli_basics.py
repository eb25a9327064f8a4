"""The CLI's shape: every contract command exists and bad options give one clear line."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from orch.cli import app

runner = CliRunner()


@pytest.mark.parametrize("args", [[], ["lint"], ["plan"], ["apply"], ["schema"], ["sandbox", "serve"],
                                  ["sandbox", "generate"], ["sandbox", "reset"], ["sandbox", "advance"], ["ledger", "import"],
                                  ["ledger", "export"], ["ledger", "history"], ["show"]])
def test_every_command_has_help(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def _installed_version() -> str:
    """The version pyproject.toml gives the installed package (not a copy of it in this test)."""
    from importlib.metadata import version

    return version("orch")


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"orch {_installed_version()}"


def test_bad_var_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["plan", "-p", str(tmp_path), "--var", "novalue"])
    assert result.exit_code == 1
    assert "NAME=VALUE" in result.output
    assert "Traceback" not in result.output


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "orch", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"orch {_installed_version()}"


@pytest.mark.parametrize("args", [["plan", "-p", "policies", "--detailed-exitcode", "--no-such-option"], ["lint"],
                                  ["plan", "-p"], ["sandbox", "serve", "--port", "abc"]])
def test_usage_errors_are_one_line_and_exit_1(args):
    """Exit 2 means "changes" with --detailed-exitcode; a usage error must not look like it (found by review)."""
    out = subprocess.run([sys.executable, "-m", "orch", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("error: ") and out.stdout == ""


def test_no_arguments_shows_the_help():
    out = subprocess.run([sys.executable, "-m", "orch"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Usage" in out.stdout and "plan" in out.stdout
