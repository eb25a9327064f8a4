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


def test_a_source_project_without_data_sharing_is_a_plan_error_naming_the_fix(make_sandbox, tmp_path, monkeypatch,
                                                                              world):
    monkeypatch.chdir(tmp_path)
    world["ica"]["projects"][0]["dataSharingEnabled"] = False  # ken_debug, the hand-off source
    sb = make_sandbox(world)
    cli = Cli(sb, tmp_path)
    run = cli.plan()
    plan = run.json()
    errors = [e["message"] for e in plan["errors"] if "dataSharingEnabled is false" in e["message"]]
    assert len(errors) == 1 and "turn on data sharing" in errors[0] and "ken_debug" in errors[0]
    assert not [a for a in plan["actions"] if a["action"] in ("link", "manifest", "mark_managed")]
    # the sandbox refuses such links as ICA does
    import requests

    r = requests.post(f"{sb.ica_url}/api/projects/{world['ica']['projects'][1]['id']}/data/fil.a1",
                      headers={"X-API-Key": world["ica"]["api_key"]}, timeout=5)
    assert r.status_code == 403 and "does not allow data sharing" in r.json()["detail"]


def test_the_manifest_upload_works_on_a_kms_destination(make_sandbox, tmp_path, monkeypatch, world):
    monkeypatch.chdir(tmp_path)
    world["ica"]["projects"][1]["kms"] = True  # Ken_demos: SSE-KMS storage
    cli = Cli(make_sandbox(world), tmp_path)
    assert cli.apply().code == 0
    manifest = "/fastq_manifests/RUN_A-BclConvert_v4_1_23-a0000000.download_manifest.csv"
    got = next(d for p in cli.state()["ica"]["projects"] if p["name"] == "Ken_demos" for d in p["data"]
               if d["path"] == manifest)
    assert got["status"] == "AVAILABLE" and got["content"].startswith("file_name,")


def test_a_protected_file_the_platform_deletes_itself_is_a_warning_and_the_sandbox_does_it(
        make_sandbox, tmp_path, monkeypatch, world):
    from pathlib import Path

    from e2e_helpers import MGI, data_of

    monkeypatch.chdir(tmp_path)
    x = next(d for d in world["ica"]["projects"][0]["data"] if d["path"] == "/ilmn-analyses/RUN_B/output/x.txt")
    x["willBeDeletedAt"] = "2026-11-26T00:00:00Z"  # half a day after the world's now
    policy = tmp_path / "mgi.yaml"
    policy.write_text(Path(MGI).read_text().replace("\nprotect: {}\n",
                                                    "\nprotect:\n  names: [x.txt]\n"))
    cli = Cli(make_sandbox(world), tmp_path)
    run = cli.plan(policy=str(policy))
    assert run.code == 0, run.stderr
    assert ("warning: /ilmn-analyses/RUN_B/output/x.txt is protected" in run.stderr
            and "ICA itself will delete it at 2026-11-26T00:00:00Z (willBeDeletedAt)" in run.stderr)
    assert run.stderr.count("ICA itself will delete it") == 1
    # the sandbox carries the platform's schedule out when its clock passes it
    assert data_of(cli.state(), "ken_debug")["/ilmn-analyses/RUN_B/output/x.txt"]["willBeDeletedAt"]
    cli.advance("13h")
    assert "/ilmn-analyses/RUN_B/output/x.txt" not in data_of(cli.state(), "ken_debug")
