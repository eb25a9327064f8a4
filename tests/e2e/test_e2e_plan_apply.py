"""End to end over real HTTP: orch plan → orch apply → /_sandbox/state → orch plan again."""

from __future__ import annotations

import csv
import io
import json

import pytest

from e2e_helpers import (DST_ID, MGI, ODD_NAME, Cli, data_of, datasets_of, every_kind_world, runs_of)

HANDOFF_MANIFEST = "/fastq_manifests/RUN_A-BclConvert_v4_1_23-a0000000.download_manifest.csv"


@pytest.fixture
def cli(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Cli(make_sandbox(every_kind_world()), tmp_path)


def kinds(plan: dict) -> set[tuple[str, str, str | None]]:
    return {(a["action"], a["resource"]["id"], a["params"].get("then")) for a in plan["actions"]}


def test_every_action_kind_end_to_end(cli):
    first = cli.plan("empty_trash=true")
    assert first.code == 0, first.stderr
    plan = first.json()
    got = kinds(plan)
    assert {("link", "fil.a1", None), ("link", "fil.a2", None), ("link", "fil.a3", None)} <= got
    assert ("link", "fil.a4", None) not in got  # X-2 is not an MGI name
    assert ("unarchive", "fol.d", "delete") in got
    assert {("delete", "ds.old", None), ("unarchive", "ds.oldarch", "delete"), ("archive", "ds.mid", None),
            ("delete", "2001", None), ("archive", "2002", None), ("purge_trash", "trash", None)} <= got
    assert {a["action"] for a in plan["actions"]} == {"link", "manifest", "mark_managed", "archive", "unarchive",
                                                      "delete", "purge_trash"}
    # ds.oldyoung (80 d) is in bs_old, named by a 100-day-old analysis: its own age archives it (contracts 4.2)
    assert ("archive", "ds.oldyoung", None) in got
    untouched = {"ds.new", "ds.x", "2003"}
    assert not untouched & {a["resource"]["id"] for a in plan["actions"]}

    applied = cli.apply("empty_trash=true")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Apply complete" in applied.stdout

    state = cli.state()
    dest = data_of(state, "Ken_demos")
    linked = {d["id"] for d in dest.values() if d.get("owningProjectId")}
    assert linked == {"fil.a1", "fil.a2", "fil.a3"}
    manifest = dest[HANDOFF_MANIFEST]
    rows = list(csv.reader(io.StringIO(manifest["content"])))
    assert rows[0] == ["file_name", "file_path", "data_id", "project_id"]
    assert [r[0] for r in rows[1:]] == ["M-1_S1_L001_R1_001.fastq.gz", "M-1_S1_L001_R2_001.fastq.gz", ODD_NAME]
    assert [r[1] for r in rows[1:]] == sorted(r[1] for r in rows[1:])
    assert all(r[3] == DST_ID for r in rows[1:])
    assert '"M-3 ""odd"",name' in manifest["content"]  # quoted by the csv module
    src = data_of(state, "ken_debug")
    assert src["/ilmn-analyses/RUN_B/output/"]["status"] == "DELETING"
    assert src["/ilmn-analyses/RUN_C/output/"]["status"] == "ARCHIVING"
    assert src["/ilmn-analyses/RUN_D/output/"]["status"] == "UNARCHIVING"
    ds = datasets_of(state)
    assert "ds.old" not in ds and ds["ds.oldarch"].get("ArchiveStatus") == "Restoring"
    assert ds["ds.mid"].get("ArchiveStatus") == "Archiving"
    runs = runs_of(state)
    assert "2001" not in runs and runs["2002"].get("ArchiveStatus") == "Archiving"
    assert not state["basespace"].get("trash")  # emptied after the deletes

    again = cli.plan("empty_trash=true", extra=("--detailed-exitcode",))
    assert again.code == 0, again.stdout
    assert again.json()["actions"] == []


def test_table_markdown_and_detailed_exit_codes(cli):
    table = cli.run("plan", "-p", MGI, *cli.common())
    assert table.code == 0 and "Plan:" in table.stdout and "unarchive → delete" in table.stdout
    md = cli.run("plan", "-p", MGI, *cli.common(), "--format", "markdown")
    assert md.code == 0 and "|" in md.stdout
    detailed = cli.plan(extra=("--detailed-exitcode",))
    assert detailed.code == 2


def test_saved_plan_applies_exactly_and_stale_actions_are_refused(cli, tmp_path):
    out = tmp_path / "plan.json"
    saved = cli.plan(extra=("--out", str(out)))
    assert saved.code == 0 and out.exists()
    plan = json.loads(out.read_text())
    # the world changes after the review: RUN_B's folder gets archived by someone else,
    # and a dataset that was to be archived is deleted
    from orch.connectors.basespace import BasespaceClient
    from orch.connectors.ica import IcaClient

    ica = IcaClient(cli.sandbox.ica_url, "e2e-key")
    folder = next(a for a in plan["actions"] if a["resource"].get("path") == "/ilmn-analyses/RUN_B/output/")
    ica.archive(folder["resource"]["project_id"], folder["resource"]["id"])  # planned delete, now ARCHIVING
    BasespaceClient(cli.sandbox.basespace_url, "e2e-token").delete_dataset("ds.mid")
    res = cli.apply_file(out)
    assert res.code == 1, res.stdout
    assert "refused-stale" in res.stdout + res.stderr
    state = cli.state()
    src = data_of(state, "ken_debug")
    assert src["/ilmn-analyses/RUN_B/output/"]["status"] in ("ARCHIVING", "ARCHIVED")  # not deleted
    assert src["/ilmn-analyses/RUN_C/output/"]["status"] == "ARCHIVING"  # the other actions ran
    assert {d["id"] for d in data_of(state, "Ken_demos").values() if d.get("owningProjectId")} == \
        {"fil.a1", "fil.a2", "fil.a3"}


def test_one_failing_action_leaves_the_others_done(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = every_kind_world()
    world["basespace"]["scopes"] = ["READ GLOBAL", "BROWSE GLOBAL", "EMPTY TRASH"]  # no MOVETOTRASH: deletes fail
    cli = Cli(make_sandbox(world), tmp_path)
    res = cli.apply("empty_trash=true")
    assert res.code == 1
    text = res.stdout + res.stderr
    assert "failed" in text and "not-run" in text  # BaseSpace deletes failed; the trash purge did not run
    state = cli.state()
    assert "ds.old" in datasets_of(state) and "2001" in runs_of(state)
    assert data_of(state, "ken_debug")["/ilmn-analyses/RUN_B/output/"]["status"] == "DELETING"
    assert HANDOFF_MANIFEST in data_of(state, "Ken_demos")
    # the next plan still holds exactly the failed deletes (and the purge after them)
    plan = cli.plan("empty_trash=true").json()
    assert {(a["action"], a["resource"]["id"]) for a in plan["actions"]} == {
        ("delete", "ds.old"), ("delete", "2001"), ("purge_trash", "trash")}


def test_two_phase_delete_across_runs(cli):
    first = cli.apply()
    assert first.code == 0, first.stdout + first.stderr
    # phase 1 done: unarchiving; while in transit nothing is planned for it
    assert not [a for a in cli.plan().json()["actions"] if a["resource"]["id"] in ("fol.d", "ds.oldarch", "2002")]
    cli.advance("7h")  # past timing.unarchive (6h)
    plan = cli.plan().json()
    second = {(a["action"], a["resource"]["id"]) for a in plan["actions"]}
    assert ("delete", "fol.d") in second and ("delete", "ds.oldarch") in second
    applied = cli.apply()
    assert applied.code == 0, applied.stdout + applied.stderr
    cli.advance("1h")
    state = cli.state()
    assert "/ilmn-analyses/RUN_D/output/" not in data_of(state, "ken_debug")
    assert "ds.oldarch" not in datasets_of(state)
    assert cli.plan().json()["actions"] == []


def test_apply_refuses_without_yes_when_stdin_is_not_a_terminal(cli):
    res = cli.run("apply", "-p", MGI, *cli.common())
    assert res.code == 1
    assert "not a terminal" in res.stderr and "Traceback" not in res.stderr
    state = cli.state()
    assert not [d for d in data_of(state, "Ken_demos").values() if d.get("owningProjectId")]


def test_bad_credentials_fail_with_one_line(cli):
    cli.env["ICA_API_KEY"] = "wrong-key"
    res = cli.plan()
    assert res.code == 1
    assert "wrong-key" not in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_plan_is_byte_identical_apart_from_created_at(cli):
    one, two = cli.plan().json(), cli.plan().json()
    one.pop("created_at"), two.pop("created_at")
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_requests_stay_few(cli):
    import requests

    requests.post(cli.sandbox.control_url + "/requests:reset", timeout=5)
    cli.plan()
    counts = requests.get(cli.sandbox.control_url + "/requests", timeout=5).json()
    # 6 analyses: outputs once each, one analysis listing, folders by id[] in one batch, ...
    assert counts["by_route"].get("GET /api/projects/{projectId}/analyses/{analysisId}/outputs", 0) <= 6
    assert counts["by_route"].get("POST /api/projects/{projectId}/analysis:search", 0) == 1
    assert counts["total"] <= 30, counts


def test_apply_with_json_format_keeps_stdout_one_json_document(cli):
    res = cli.run("apply", "-p", MGI, *cli.common(), "--yes", "--format", "json")
    assert res.code == 0, res.stderr
    assert json.loads(res.stdout)["format_version"] == "1"
    assert "Apply complete" in res.stderr


@pytest.mark.parametrize("answer,code,linked", [("n\n", 1, 0), ("y\n", 1, 0), ("Yes!\n", 1, 0), ("yes\n", 0, 3)])
def test_apply_asks_on_a_terminal(cli, monkeypatch, answer, code, linked):
    import orch.engine.commands as commands

    monkeypatch.setattr(commands, "stdin_is_terminal", lambda: True)
    res = cli.run("apply", "-p", MGI, *cli.common(), input=answer)
    assert res.code == code, res.stdout + res.stderr
    assert "Apply these" in res.stderr and "destructive" in res.stderr and "Only 'yes'" in res.stderr
    assert res.stderr.index("5 of these 14 actions are destructive") < res.stderr.index("Apply these")
    dest = data_of(cli.state(), "Ken_demos")
    assert len([d for d in dest.values() if d.get("owningProjectId")]) == linked
