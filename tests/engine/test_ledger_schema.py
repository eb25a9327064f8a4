"""Ledger schema 2: the in-place upgrade of a ledger the previous release wrote, read-only opening,
hand-off records per group, and the tables other parts of orch keep their memory in."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from orch.engine.ledger import LEGACY_HEADER, SCHEMA_VERSION, UNASSIGNED, Ledger
from orch.engine.plan import ActionResult, Outcome, PlannedAction
from orch.errors import ConfigError
from orch.timeutil import parse_ts

V1_DUMP = Path(__file__).parent / "data" / "ledger_v1.sql"
#: the analyses the release handed off on the demo world, with their run folders, and the legacy row
V1_MANAGED = {
    "2e4a6c8e-0b1d-4f3a-8c5e-7d9f1b3d5e73": "20261117_LH00412_0034_A22GHJKLM2",
    "5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81": "20261119_LH00619_0021_B22CCFJLT4",
    "8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62": "261114_A01536_0088_AHXXKJDSX7",
    "11111111-2222-4333-8444-555555555555": "20250101_LH00001_0001_AXXXX",
}
A = "5c1e8d2a-0000-4000-8000-00000000000a"
B = "6d2f9e3b-0000-4000-8000-00000000000b"
NOW = parse_ts("2026-11-25T12:00:00Z")


def schema1_ledger(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(V1_DUMP.read_text())
    db.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_upgrade_in_place_of_a_ledger_the_previous_release_wrote(tmp_path):
    path = schema1_ledger(tmp_path / "state.db")
    with Ledger(path) as ledger:
        assert ledger.upgraded_from == 1
        records = ledger.managed()
        assert {m.analysis_id: m.run_id for m in records} == V1_MANAGED
        assert {m.group for m in records} == {UNASSIGNED}
        assert {m.policy for m in records} == {"handoff-mgi-fastqs", "legacy-import"}
        # a record made before groups were kept counts for every group, as it did
        assert all(ledger.is_managed(a, group="mgi") and ledger.is_managed(a, group="smith", policy="x")
                   for a in V1_MANAGED)
        hist = ledger.history(None)
        assert len(hist) == 29 and hist[0].action == "mark_managed" and hist[-1].seq == 1
        assert {(h.group, h.wall_time) for h in hist} == {(UNASSIGNED, None)}
        assert len(ledger.bssh_requests(NOW + timedelta(hours=1))) == 6  # 4 archives and 2 restores, by id
        assert ledger.cache_get("bsshoutput|fil.dde2b73f87ecc7dbe5378d155ed6585a|"
                                '"dde2b73f87ecc7dbe5378d155ed6585a"') == {"Projects": {"OutputProject": {
                                    "Name": "MGI_2026_08"}}}
        assert ledger.export_legacy().splitlines() == [LEGACY_HEADER] + [
            f"{a},{run}" for a, run in sorted(V1_MANAGED.items())]
        ledger.mark_managed(A, "R-1", "handoff", group="mgi")  # the new tables work at once
        ledger.set_pending("mgi", "handoff", B, "a file is PARTIAL")
    backup = Path(str(path) + ".schema1.bak")
    with sqlite3.connect(backup) as old:  # the copy kept beside it is the untouched schema-1 ledger
        assert old.execute("SELECT value FROM meta").fetchone() == ("1",)
        assert old.execute("SELECT count(*) FROM managed").fetchone() == (4,)
    with Ledger(path) as again:
        assert again.upgraded_from is None and len(again.managed()) == 5 and again.pending()[0].analysis_id == B
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)


def test_concurrent_openers_of_a_schema1_ledger_upgrade_it_once(tmp_path):
    path = schema1_ledger(tmp_path / "state.db")
    upgraded, errors = [], []

    def open_it():
        try:
            with Ledger(path) as ledger:
                upgraded.append(ledger.upgraded_from)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(upgraded, key=str) == [1, None, None, None]
    with Ledger(path) as ledger:
        assert len(ledger.managed()) == 4


def test_read_only_opening_never_changes_the_file(tmp_path):
    path = schema1_ledger(tmp_path / "state.db")
    before = digest(path)
    with Ledger(path, readonly=True) as ledger:  # upgraded in a private copy
        assert ledger.is_managed("5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81", group="mgi")
        assert len(ledger.history(5)) == 5
        with pytest.raises(ConfigError, match="read-only"):
            ledger.mark_managed(A, "r", "p", group="mgi")
        with pytest.raises(ConfigError, match="read-only"):
            with ledger.apply_lock():
                pass
        ledger.cache_put("k", 1)  # a read-only run remembers nothing
    assert digest(path) == before and not Path(str(path) + ".schema1.bak").exists()
    with Ledger(path) as ledger:
        ledger.mark_managed(A, "r", "p", group="mgi")
    with Ledger(path, readonly=True) as ledger:  # current schema: read in place
        assert ledger.is_managed(A, group="mgi") and not ledger.is_managed(A, group="smith")
    with pytest.raises(ConfigError, match="no orch state database at"):
        Ledger(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def test_a_ledger_of_a_newer_orch_is_refused(tmp_path):
    path = tmp_path / "state.db"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    for readonly in (False, True):
        with pytest.raises(ConfigError, match="newer orch"):
            Ledger(path, readonly=readonly)


def test_hand_off_records_belong_to_a_group_and_policy(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.mark_managed(A, "20261119_LH00619_0021_B22CCFJLT4_x-BclConvert-a", "handoff-mgi", group="mgi")
        assert not ledger.mark_managed(A, "other", "handoff-mgi", group="mgi")  # first record kept
        assert ledger.mark_managed(A, "ref", "handoff-smith", group="smith")
        assert ledger.is_managed(A) and ledger.is_managed(A, group="mgi") and ledger.is_managed(A, group="smith")
        assert ledger.is_managed(A, group="mgi", policy="handoff-mgi")
        assert not ledger.is_managed(A, group="mgi", policy="handoff-smith")
        assert not ledger.is_managed(A, group="jones") and not ledger.is_managed(B)
        assert ledger.groups() == {"mgi", "smith"}
        assert [(m.group, m.run_id) for m in ledger.managed("mgi")] == [("mgi", "20261119_LH00619_0021_B22CCFJLT4")]
        assert ledger.managed_ids("smith") == {A} and ledger.managed_ids("jones") == set()
        assert ledger.export_legacy("jones") == LEGACY_HEADER + "\n"


def _mark(policy: str, group: str, won_over: list[str]) -> PlannedAction:
    action = PlannedAction.create(policy=policy, group=group, action="mark_managed",
                                  resource={"kind": "ica.analysis", "id": A.upper(), "project_id": "p1",
                                            "name": "RUN_X-ref", "reference": "RUN_X-ref",
                                            "user_reference": "20261119_LH00619_0021_B22CCFJLT4_x"},
                                  params={}, reason="hand-off done", fingerprint="f")
    action.won_over = won_over
    return action


def test_record_of_a_merged_mark_managed_records_each_policy_of_its_group(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.record(ActionResult(_mark("handoff-a", "labs", ["handoff-b"]), Outcome.FAILED, "x"))
        assert not ledger.is_managed(A)
        ledger.record(ActionResult(_mark("handoff-a", "labs", ["handoff-b"]), Outcome.DONE), when=NOW)
        assert [(m.group, m.policy, m.run_id, m.managed_at) for m in ledger.managed()] == [
            ("labs", "handoff-a", "20261119_LH00619_0021_B22CCFJLT4", "2026-11-25T12:00:00Z"),
            ("labs", "handoff-b", "20261119_LH00619_0021_B22CCFJLT4", "2026-11-25T12:00:00Z")]
        newest = ledger.history(1)[0]
        assert newest.group == "labs" and newest.time == "2026-11-25T12:00:00Z"
        assert newest.wall_time and newest.wall_time != newest.time  # the real clock beside the run clock


def test_history_by_group_and_since(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        for i, (group, hours) in enumerate([("mgi", 0), ("smith", 1), ("mgi", 2)]):
            ledger.record_raw(action_id=f"a{i}", policy="p", action="link", resource_kind="ica.data",
                              resource_id=str(i), outcome="done", group=group, when=NOW + timedelta(hours=hours))
        assert [h.action_id for h in ledger.history(group="mgi")] == ["a2", "a0"]
        assert [h.action_id for h in ledger.history(since=NOW + timedelta(hours=1))] == ["a2", "a1"]
        assert [h.action_id for h in ledger.history(1, group="mgi", since=NOW)] == ["a2"]


def test_import_belongs_to_one_group(tmp_path):
    table = f"{LEGACY_HEADER}\n{A},RUN_A\n{B},RUN_B\n"
    with Ledger(tmp_path / "s.db") as ledger:
        report = ledger.import_legacy(table, source="t.txt")  # no group yet: unassigned, as before
        assert report.group == UNASSIGNED and ledger.is_managed(A, group="anyone")
    with Ledger(tmp_path / "g.db") as ledger:
        ledger.mark_managed(A, "RUN_A-ref", "handoff", group="mgi")
        report = ledger.import_legacy(table, source="t.txt")  # the only group there
        assert report.group == "mgi" and report.already_present == [A] and report.imported == [(B, "RUN_B")]
        assert "for group mgi" in str(report)
        ledger.mark_managed(A, "RUN_A-ref", "handoff", group="smith")
        with pytest.raises(ConfigError, match=r"several groups \(mgi, smith\).*--group"):
            ledger.import_legacy(table, source="t.txt")
        report = ledger.import_legacy(table, source="t.txt", group="jones")
        assert [a for a, _ in report.imported] == [A, B]
        assert ledger.export_legacy("jones") == f"{LEGACY_HEADER}\n{A},RUN_A\n{B},RUN_B\n"


def test_applied_plans_by_digest(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.applied_plan("d1") is None
        first = ledger.record_applied_plan("d1", NOW, source="plan.json", summary="3 done")
        assert (first.applied_at, first.applies, first.source) == ("2026-11-25T12:00:00Z", 1, "plan.json")
        again = ledger.record_applied_plan("d1", NOW + timedelta(hours=1), summary="0 done")
        assert (again.applied_at, again.last_applied_at, again.applies, again.summary) == (
            "2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z", 2, "0 done")
    with Ledger(tmp_path / "s.db", readonly=True) as ledger:
        assert ledger.applied_plan("d1").applies == 2 and ledger.applied_plan("d2") is None


def test_pending_hand_offs(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.set_pending("mgi", "handoff", A.upper(), "M-1.fastq.gz is PARTIAL", since=NOW)
        ledger.set_pending("mgi", "handoff", A, "M-1.fastq.gz is protected", since=NOW + timedelta(hours=1))
        ledger.set_pending("smith", "handoff", A, "unreadable outputs", since=NOW)
        ledger.set_pending("mgi", "handoff", B, "PARTIAL", since=NOW)
        mine = ledger.pending(group="mgi", analysis_id=A)
        assert [(p.reason, p.since, p.updated_at) for p in mine] == [
            ("M-1.fastq.gz is protected", "2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z")]
        assert len(ledger.pending()) == 3 and len(ledger.pending(analysis_id=A)) == 2
        assert ledger.clear_pending(A, group="mgi") == 1
        assert [p.group for p in ledger.pending(analysis_id=A)] == ["smith"]
        assert ledger.clear_pending(A) == 1 and ledger.clear_pending(A) == 0
        assert [p.analysis_id for p in ledger.pending()] == [B]


def test_route_states(tmp_path):
    route = "DELETE /v2/datasets/{id}"
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.route_state("acct-1", route) == "unknown" and ledger.route_record("acct-1", route) is None
        ledger.set_route_state("acct-1", route, "confirmed", evidence="204 for ds.1", when=NOW)
        ledger.set_route_state("acct-2", route, "unavailable", evidence="405 without an item")
        assert ledger.route_state("acct-1", route) == "confirmed"
        assert ledger.route_record("acct-1", route).evidence == "204 for ds.1"
        assert ledger.route_state("acct-2", route) == "unavailable"
        assert [r.account for r in ledger.route_states()] == ["acct-1", "acct-2"]
        with pytest.raises(ValueError, match="confirmed, unavailable, unknown"):
            ledger.set_route_state("acct-1", route, "works")


def test_facts_memo(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.recall("output_folder", A) is None
        ledger.remember("output_folder", A, {"id": "fol.1", "path": "/ilmn-analyses/RUN_A/output/"})
        ledger.remember_many("bssh_projects", {A: ["MGI_2026_08"], B: []})
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.recall("output_folder", A) == {"id": "fol.1", "path": "/ilmn-analyses/RUN_A/output/"}
        assert ledger.recall_many("bssh_projects") == {A: ["MGI_2026_08"], B: []}
        assert ledger.recall_many("bssh_projects", [B, "x"]) == {B: []}
        assert ledger.forget("bssh_projects", B) == 1 and ledger.recall("bssh_projects", B) is None


def test_the_upgraded_ledger_keeps_its_hand_offs_through_the_cli(tmp_path, monkeypatch):
    """The release's ledger of the demo world, upgraded: the MGI pack plans none of those hand-offs
    again (a fresh ledger plans them all), and `ledger export` gives run folder names."""
    import json

    from typer.testing import CliRunner

    from orch.cli import app

    monkeypatch.chdir(tmp_path)
    mgi = str(Path(__file__).resolve().parents[2] / "policies" / "mgi.yaml")

    def orch(*args):
        res = CliRunner().invoke(app, list(args), env={"ORCH_STATE": None})
        assert res.exit_code in (0, 2), res.stdout + res.stderr
        return res.stdout

    def handed_off(state):
        plan = json.loads(orch("plan", "--sandbox", "-p", mgi, "--state", str(state), "--format", "json"))
        return {a["resource"]["id"] for a in plan["actions"] if a["action"] == "mark_managed"}

    assert handed_off(tmp_path / "fresh.db") == set(V1_MANAGED) - {"11111111-2222-4333-8444-555555555555"}
    old = schema1_ledger(tmp_path / "state.db")
    assert handed_off(old) == set()
    assert orch("ledger", "export", "--state", str(old)).splitlines()[1:] == [
        f"{a},{run}" for a, run in sorted(V1_MANAGED.items())]
