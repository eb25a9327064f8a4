"""The README's policy example is a real, lint-clean policy (so the first thing users copy works)."""

from pathlib import Path

from orch.policy.lint import lint_paths

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_policy_example_lints_clean(tmp_path):
    text = README.read_text()
    start = text.index("```yaml", text.index("## A policy")) + len("```yaml\n")
    example = tmp_path / "example.yaml"
    example.write_text(text[start:text.index("```", start)])
    assert [str(p) for p in lint_paths([str(example)])] == []


def test_readme_shows_the_two_setup_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
