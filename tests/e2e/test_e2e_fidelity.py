"""Platform fidelity end to end (issue 9): items BaseSpace will not act on are left out at planning,
and a BaseSpace batch refused for one item fails that item alone."""

from __future__ import annotations

import pytest

from e2e_helpers import Cli, datasets_of, every_kind_world, runs_of


@pytest.fixture
def world():
    return every_kind_world()


def test_files_deleted_datasets_are_not_planned_with_a_note(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    world["basespace"]["projects"][1]["datasets"][0]["IsFileDataDeleted"] = True  # ds.old (delete window)
    world["basespace"]["projects"][1]["datasets"][1]["IsFileDataDeleted"] = True  # ds.oldarch (restore-for-delete)
    cli = Cli(make_sandbox(world), tmp_path)
    run = cli.plan()
    assert run.code == 0, run.stderr
    planned = {a["resource"]["id"] for a in run.json()["actions"]}
    assert not {"ds.old", "ds.oldarch"} & planned and "ds.mid" in planned
    assert "delete of bssh.dataset M-5_L001 not planned: its files are deleted" in run.stderr
    assert "M-6_L001 not planned: its files are deleted" in run.stderr


def test_one_refused_item_of_a_basespace_archive_batch_fails_alone(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    world["basespace"]["projects"][2]["datasets"][0]["shared"] = True  # ds.mid: BaseSpace refuses to archive it
    cli = Cli(make_sandbox(world), tmp_path)
    run = cli.apply()
    assert run.code != 0  # a failed action
    out = run.stdout + run.stderr
    assert "ds.mid is shared" in out
    state = cli.state()
    assert not datasets_of(state)["ds.mid"]["IsArchived"]
    assert runs_of(state)["2002"]["IsArchived"]  # the run archived in the same batch went through
