"""``--only GLOB`` plans just the named policies (Custodian's -p, Terraform's -target)."""

from __future__ import annotations

import pytest

from e2e_helpers import MGI, Cli, every_kind_world


@pytest.fixture
def cli(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Cli(make_sandbox(every_kind_world()), tmp_path)


def policies_of(run) -> set[str]:
    return {a["policy"] for a in run.json()["actions"]}


def test_only_plans_the_matching_policies_and_apply_acts_on_just_those(cli):
    full = cli.plan()
    assert {"handoff-mgi-fastqs", "delete-ica-outputs", "archive-ica-outputs"} <= policies_of(full)
    handoff = cli.plan(extra=("--only", "handoff-*"))
    assert handoff.code == 0, handoff.stderr
    assert policies_of(handoff) == {"handoff-mgi-fastqs"}
    assert handoff.json()["actions"] == [a for a in full.json()["actions"] if a["policy"] == "handoff-mgi-fastqs"]
    assert "--only: planning 1 of 10 policies: handoff-mgi-fastqs" in handoff.stderr
    ica = cli.plan(extra=("--only", "*-ica-outputs", "--only", "handoff-mgi-fastqs"))
    assert policies_of(ica) == {"handoff-mgi-fastqs", "delete-ica-outputs", "archive-ica-outputs"}

    applied = cli.run("apply", "-p", MGI, *cli.common(), "--only", "handoff-*", "--yes")
    assert applied.code == 0, applied.stdout + applied.stderr
    rest = cli.plan()
    assert "handoff-mgi-fastqs" not in policies_of(rest) and "delete-ica-outputs" in policies_of(rest)


def test_only_that_matches_nothing_is_a_clear_error(cli, tmp_path):
    typo = cli.plan(extra=("--only", "handof-*"))
    assert typo.code == 1 and typo.stdout == ""
    [line] = typo.stderr.strip().splitlines()
    assert "--only 'handof-*' matches no policy; the loaded policies are: handoff-mgi-fastqs," in line
    saved = tmp_path / "plan.json"
    assert cli.plan(extra=("--out", str(saved))).code == 0
    both = cli.run("apply", saved, *cli.common(), "--only", "handoff-*")
    assert both.code == 1 and "a saved plan is applied exactly as it is" in both.stderr
